import { startMatomoSim, type MatomoSim } from '@matomo-live/matomo-sim';
import { asStatusMessage } from '@matomo-live/protocol';
import { redisNames } from '@matomo-live/shared';
import { startSingleProcess, type SingleProcess } from '../src/single-process';
import { redisScope } from '@matomo-live/test-support/redis';
import { waitFor } from '@matomo-live/test-support/wait-for';
import { TestClient } from '@matomo-live/test-support/ws-client';

const TOKEN = 'test-token-0123456789';

describe('single-process mode (poller + gateway in one process)', () => {
  let sim: MatomoSim;
  let running: SingleProcess | undefined;
  let client: TestClient | undefined;

  beforeEach(async () => {
    sim = await startMatomoSim({ token: 'sim-token' });
    sim.setSummary({ today: { nb_visits: 12, sum_visit_length: 3723 } });
  });

  afterEach(async () => {
    client?.ws.terminate();
    await running?.shutdown();
    running = undefined;
    await sim.close();
  });

  const env = (extra: Record<string, string> = {}) => ({
    MATOMO_URL: sim.url,
    MATOMO_TOKEN: 'sim-token',
    FETCH_INTERVAL: '200',
    PORT: '0',
    HOST: '127.0.0.1',
    VALID_TOKENS: TOKEN,
    DASHBOARD_DIR: 'off',
    DRAIN_WINDOW: '0',
    LOG_LEVEL: 'silent',
    ...extra,
  });

  async function seesNewVisit(): Promise<void> {
    // Upgrades wait for the gateway's first subscription (503 before it: a load balancer tries another replica).
    await waitFor(() => running!.gateway.isReady(), 'the gateway to be subscribed');
    client = TestClient.connect(`ws://127.0.0.1:${running!.port}/?token=${TOKEN}`);
    await client.until(
      () =>
        client!.messages.some(
          (m) => (JSON.parse(m) as { summary?: { today?: { time_spent?: string } } }).summary?.today?.time_spent === '01:02:03',
        ),
      'the first snapshot',
      15_000,
    );
    sim.addVisit({ city: 'Tromsø', latitude: 69.65, longitude: 18.96 });
    await client.until(
      () =>
        client!.messages.some((m) =>
          (JSON.parse(m) as { visits_live?: Array<{ city: string }> }).visits_live?.some((v: { city: string }) => v.city === 'Tromsø'),
        ),
      'the new visit',
      15_000,
    );
  }

  it('runs on the in-memory bus without REDIS_URL', async () => {
    running = await startSingleProcess(env());
    expect(running.bus).toBe('memory');
    await seesNewVisit();
  });

  it('runs on the Redis code paths with REDIS_URL', async () => {
    const world = await redisScope('single');
    try {
      running = await startSingleProcess(env({ REDIS_URL: world.url, REDIS_PREFIX: world.prefix }));
      expect(running.bus).toBe('redis');
      await seesNewVisit();
      expect(await world.command.exists(redisNames(world.prefix, 1).snapshotKey)).toBe(1);
    } finally {
      client?.ws.terminate();
      await running?.shutdown();
      running = undefined;
      await world.close();
    }
  });

  it('watches the poller’s heartbeats on the in-memory bus: a ?status=1 client gets status messages, others none', async () => {
    running = await startSingleProcess(env());
    await waitFor(() => running!.gateway.isReady(), 'the gateway to be subscribed');
    const url = `ws://127.0.0.1:${running.port}/?token=${TOKEN}`;
    client = TestClient.connect(`${url}&status=1`);
    const plain = TestClient.connect(url);
    try {
      // Live once the poller's heartbeats arrive; without any, poller_silent after 15 s: either way the gateway judged the site.
      await client.until(() => client!.messages.some((m) => asStatusMessage(JSON.parse(m)) !== undefined), 'a status message', 30_000);
      expect(running.gateway.statuses.status(1)).toMatchObject({ type: 'status', site: 1 });
      await plain.nextMessages(1);
      expect(plain.messages.every((m) => 'summary' in (JSON.parse(m) as object))).toBe(true);
    } finally {
      plain.ws.terminate();
    }
  }, 60_000);
});
