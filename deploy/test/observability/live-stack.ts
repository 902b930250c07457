// A small real deployment to scrape: the Matomo simulator adding visits, a
// poller process and two gateway processes (built entry points, process
// metrics included) on the run's Redis, and real WebSocket clients on both
// gateways — one asking for visit events, one refused (bad token: 4001).
import { startMatomoSim, type MatomoSim } from '@matomo-live/matomo-sim';
import { freePorts } from '@matomo-live/redis-ha';
import { REPO_ROOT, buildWorkspace, startService, waitForHttpOk, type ServiceProcess } from '@matomo-live/test-support/processes';
import { redisScope, type RedisScope } from '@matomo-live/test-support/redis';
import { TestClient } from '@matomo-live/test-support/ws-client';
import { join } from 'node:path';

const MATOMO_TOKEN = 'live-stack-matomo-token';
const CLIENT_TOKEN = 'live-stack-client-token';

export interface LiveStack {
  /** host:port of the poller's health port (its /metrics). */
  poller: string;
  /** host:port of each gateway (its /metrics). */
  gateways: string[];
  /** Closes clients, stops the processes, the simulator and the Redis scope. */
  stop(): Promise<void>;
}

/** Starts the stack and returns once every gateway delivered a snapshot to its clients. */
export async function startLiveStack(): Promise<LiveStack> {
  buildWorkspace(join(REPO_ROOT, 'poller'));
  buildWorkspace(join(REPO_ROOT, 'gateway'));
  const services: ServiceProcess[] = [];
  const clients: TestClient[] = [];
  let sim: MatomoSim | undefined;
  let redis: RedisScope | undefined;
  const stop = async () => {
    for (const client of clients) client.ws.terminate();
    await Promise.all(services.map((s) => s.stop()));
    await sim?.close();
    await redis?.close();
  };
  try {
    // A visit every 500 ms: snapshots and visit events keep flowing while Prometheus scrapes.
    sim = await startMatomoSim({ token: MATOMO_TOKEN, siteIds: [1, 2], timezone: 'Europe/Paris', visitEveryMs: 500 });
    redis = await redisScope('live-stack');
    const [pollerPort, ...gatewayPorts] = await freePorts(3);
    const common = { REDIS_URL: redis.url, REDIS_PREFIX: redis.prefix, MATOMO_SITE_IDS: '1,2', LOG_LEVEL: 'warn' };
    const poller = startService('poller/dist/main.js', {
      ...common,
      MATOMO_URL: sim.url,
      MATOMO_TOKEN,
      FETCH_INTERVAL: '250',
      SUMMARY_INTERVAL: '2000',
      POLLER_HEALTH_PORT: String(pollerPort),
    });
    services.push(poller);
    for (const port of gatewayPorts) {
      services.push(
        startService('gateway/dist/main.js', {
          ...common,
          PORT: String(port),
          HOST: '127.0.0.1',
          VALID_TOKENS: CLIENT_TOKEN,
          DASHBOARD_DIR: 'off',
        }),
      );
    }
    await waitForHttpOk(`http://127.0.0.1:${pollerPort}/healthz`, poller);
    await Promise.all(gatewayPorts.map((port, i) => waitForHttpOk(`http://127.0.0.1:${port}/readyz`, services[i + 1]!)));
    for (const port of gatewayPorts) {
      const base = `ws://127.0.0.1:${port}/?token=${CLIENT_TOKEN}`;
      clients.push(TestClient.connect(`${base}&site=1`), TestClient.connect(`${base}&site=2&events=visits`));
      const refused = TestClient.connect(`ws://127.0.0.1:${port}/?token=not-a-token&site=1`);
      clients.push(refused);
      await refused.closed;
    }
    await Promise.all(
      clients.filter((c) => c.closeCode === undefined).map((c) => c.until(() => c.messages.length > 0, 'a first message', 20_000)),
    );
    return { poller: `127.0.0.1:${pollerPort}`, gateways: gatewayPorts.map((port) => `127.0.0.1:${port}`), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
