/**
 * Visit events end to end, as issue 15's "Done when" states them: the Matomo
 * simulator over HTTP, the poller with its Redis publisher (leases, the
 * atomic script), a real Redis, a gateway with its Redis feed and event
 * source, and real WebSocket clients — then the same through the
 * single-process mode's in-memory bus.
 */
import { compareStreamIds, decodeSnapshot, type VisitEventMessage } from '@matomo-live/protocol';
import { startMatomoSim, type MatomoSim } from '@matomo-live/matomo-sim';
import { createRedisPoller, type RedisPoller } from '@matomo-live/poller';
import { loadPollerConfig, redisNames } from '@matomo-live/shared';
import { eventsOf, nonEventsOf, resetsOf, untilVisits, visitsOf } from '@matomo-live/test-support/events';
import type { RunningGateway } from '@matomo-live/test-support/gateway';
import { silentLogger } from '@matomo-live/test-support/logger';
import type { RedisScope } from '@matomo-live/test-support/redis';
import { singleNode } from '@matomo-live/test-support/redis-ha';
import { waitFor } from '@matomo-live/test-support/wait-for';
import { TestClient } from '@matomo-live/test-support/ws-client';
import { startSplitPipeline, type SplitPipeline } from './support/split-pipeline';
import { startSingleProcess, type SingleProcess } from '../src/single-process';

const TOKEN = 'events-token-0123456789';
const SIM_TOKEN = 'events-sim-token';

/** `n` located visits with distinct cities, added in one go: they land inside one poll. */
function burst(sim: MatomoSim, label: string, n: number): string[] {
  const cities = Array.from({ length: n }, (_, i) => `${label}-${i + 1}`);
  for (const [i, city] of cities.entries()) sim.addVisit({ city, latitude: 10 + i, longitude: 20 + i });
  return cities;
}

const cities = (events: VisitEventMessage[]) => events.map((e) => e.visit.city);

describe('visit events over Redis: poller, gateway, clients', () => {
  let sim: MatomoSim;
  let redis: RedisScope;
  let poller: RedisPoller;
  let gateway: RunningGateway;
  let pipeline: SplitPipeline | undefined;
  const clients: TestClient[] = [];

  const connect = (query = '') => {
    const client = TestClient.connect(`${gateway.url}?token=${TOKEN}${query}`);
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    pipeline = await startSplitPipeline({ scope: 'events', simToken: SIM_TOKEN, token: TOKEN, logger: silentLogger });
    ({ sim, redis, poller, gateway } = pipeline);
  });

  afterAll(async () => {
    for (const client of clients) client.ws.terminate();
    await pipeline?.stop();
  });

  it('brings a burst of 12 visits inside one poll to an events client as 12 visit events; a plain client sees only snapshots', async () => {
    const events = connect('&events=visits');
    const plain = connect();
    await events.until(() => resetsOf(events).length === 1, 'the starting point');
    expect(resetsOf(events)[0]).toMatchObject({ type: 'events_reset', site: 1, reason: 'start' });
    await plain.nextMessages(1);

    const burstCities = burst(sim, 'burst', 12);
    const received = await untilVisits(events, 12);
    expect(cities(received)).toEqual(burstCities);
    expect(received.map((e) => e.visit.idVisit)).toEqual([...new Set(received.map((e) => e.visit.idVisit))]);
    // In stream order, each with its id; the shape is the snapshot's visit plus idVisit.
    const ids = received.map((e) => e.id);
    expect([...ids].sort(compareStreamIds)).toEqual(ids);
    expect(Object.keys(received[0]!.visit)).toEqual([
      'latitude',
      'longitude',
      'city',
      'countryCode',
      'country',
      'actions',
      'visitIp',
      'operatingSystem',
      'browserName',
      'source',
      'lastActionDateTime',
      'lastActionUtc',
      'idVisit',
    ]);
    expect(received[0]!.visit).toMatchObject({ visitIp: '', actions: expect.any(Number) });

    // The plain client: every message is a reference-shaped snapshot, and it saw the burst in visits_live.
    await plain.until(
      () => nonEventsOf(plain).some((m) => (m.visits_live as Array<{ city: string }>).some((v) => v.city === 'burst-12')),
      'the burst in a snapshot',
    );
    for (const text of plain.messages) {
      const decoded = decodeSnapshot(text);
      expect('error' in decoded ? decoded.error : Object.keys(decoded.snapshot).slice(0, 2)).toEqual(['visits_live', 'summary']);
    }
    expect(eventsOf(plain)).toEqual([]);
  });

  it('a visit with a new action is an event again; a content impression (no new action) is not', async () => {
    const client = connect('&events=visits');
    await client.until(() => resetsOf(client).length === 1, 'the starting point');
    const visit = sim.addVisit({ city: 'Updated', latitude: 1, longitude: 1, actions: 1 });
    await untilVisits(client, 1);
    sim.updateVisit(visit.idVisit as number, { actions: 0 }); // content impression
    sim.updateVisit(visit.idVisit as number, { actions: 2 });
    const [first, second] = await untilVisits(client, 2);
    expect(first!.visit).toMatchObject({ city: 'Updated', actions: 1, idVisit: visit.idVisit });
    expect(second!.visit).toMatchObject({ city: 'Updated', actions: 3, idVisit: visit.idVisit });
    // One more tick passes without another event.
    sim.addVisit({ city: 'After', latitude: 1, longitude: 1 });
    await untilVisits(client, 3);
    expect(cities(visitsOf(client))).toEqual(['Updated', 'Updated', 'After']);
  });

  it('a client that disconnects while 3 visits happen and reconnects with since=<last id> gets exactly those 3', async () => {
    const first = connect('&events=visits');
    await first.until(() => resetsOf(first).length === 1, 'the starting point');
    burst(sim, 'before', 2);
    const seen = await untilVisits(first, 2);
    const lastId = seen[1]!.id;
    first.close();
    await first.closed;

    // Another client proves the 3 visits are published while the first one is away.
    const witness = connect('&events=visits');
    await witness.until(() => resetsOf(witness).length === 1, 'the witness starting point');
    const missed = burst(sim, 'missed', 3);
    await untilVisits(witness, 3);

    const again = connect(`&events=visits&since=${lastId}`);
    const replayed = await untilVisits(again, 3);
    expect(cities(replayed)).toEqual(missed);
    expect(replayed.map((e) => e.id)).toEqual(visitsOf(witness).map((e) => e.id));
    expect(resetsOf(again)).toEqual([]);
    // And live after the replay, nothing repeated.
    burst(sim, 'live', 1);
    await untilVisits(again, 4);
    expect(cities(visitsOf(again))).toEqual([...missed, 'live-1']);
  });

  it('an unknown since gets one events_reset and then live events; a since that is not a stream id is closed with 1008', async () => {
    const stale = connect('&events=visits&since=1000-0');
    await stale.until(() => resetsOf(stale).length === 1, 'the reset');
    expect(resetsOf(stale)[0]).toMatchObject({ reason: 'since-unknown', site: 1 });
    burst(sim, 'after-reset', 1);
    await untilVisits(stale, 1);
    expect(cities(visitsOf(stale))).toEqual(['after-reset-1']);
    expect(eventsOf(stale)[0]!.type).toBe('events_reset');

    const bad = connect('&events=visits&since=yesterday');
    const { code, reason } = await bad.closed;
    expect(code).toBe(1008);
    expect(reason).toBe('Policy violation: since is not a stream id');
  });

  it('stores the events and their cursor under the site hash tag, with the snapshot', async () => {
    const names = redisNames(redis.prefix, 1);
    expect(await redis.command.type(names.eventsKey)).toBe('stream');
    const [last] = (await redis.command.xrevrange(names.eventsKey, '+', '-', 'COUNT', 1)) as Array<[string, string[]]>;
    expect(await redis.command.hget(names.stateKey, 'events_last')).toBe(last![0]);
    expect(await redis.command.hgetall(names.cursorKey)).toMatchObject({
      after: expect.stringMatching(/^\d+$/),
      version: expect.any(String),
    });
    // Snapshot seq and stream agree: the latest snapshot shows the latest visit.
    const snapshot = decodeSnapshot((await redis.command.getBuffer(names.snapshotKey))!);
    expect('snapshot' in snapshot && snapshot.snapshot.visits_live[0]?.city).toBe('after-reset-1');
  });

  it('a restarted poller continues from the stored cursor: nothing lost, nothing repeated', async () => {
    const client = connect('&events=visits');
    await client.until(() => resetsOf(client).length === 1, 'the starting point');
    await poller.poller.stop();
    await poller.close();
    const during = burst(sim, 'while-down', 2);
    poller = createRedisPoller({
      config: loadPollerConfig(
        {
          MATOMO_URL: sim.url,
          MATOMO_TOKEN: SIM_TOKEN,
          REDIS_URL: redis.url,
          REDIS_PREFIX: redis.prefix,
          FETCH_INTERVAL: '150',
          POLLER_HEALTH_PORT: '0',
        },
        { dotenv: false },
      ),
      redis: singleNode(redis.url),
      logger: silentLogger,
    });
    pipeline!.poller = poller;
    await poller.poller.start();
    const after = burst(sim, 'after-restart', 1);
    await untilVisits(client, 3);
    await waitFor(async () => poller.poller.status().sites[0]!.events.visits >= 3, 'the new poller to count its events');
    expect(cities(visitsOf(client))).toEqual([...during, ...after]);
  });
});

describe('visit events in the single-process mode (in-memory bus)', () => {
  let sim: MatomoSim;
  let running: SingleProcess | undefined;
  const clients: TestClient[] = [];

  afterAll(async () => {
    for (const client of clients) client.ws.terminate();
    await running?.shutdown();
    await sim?.close();
  });

  it('delivers a burst, and resumes a client with since', async () => {
    sim = await startMatomoSim({ token: SIM_TOKEN, siteIds: [1] });
    sim.setSummary({ today: { nb_visits: 1, sum_visit_length: 10 } });
    running = await startSingleProcess({
      MATOMO_URL: sim.url,
      MATOMO_TOKEN: SIM_TOKEN,
      FETCH_INTERVAL: '150',
      PORT: '0',
      HOST: '127.0.0.1',
      VALID_TOKENS: TOKEN,
      DASHBOARD_DIR: 'off',
      DRAIN_WINDOW: '0',
      LOG_LEVEL: 'silent',
    });
    const url = `ws://127.0.0.1:${running.port}/?token=${TOKEN}&events=visits`;
    const first = TestClient.connect(url);
    clients.push(first);
    await first.until(() => resetsOf(first).length === 1, 'the starting point');
    const burstCities = burst(sim, 'memory', 12);
    expect(cities(await untilVisits(first, 12))).toEqual(burstCities);
    const lastId = visitsOf(first)[11]!.id;
    first.close();
    const missed = burst(sim, 'memory-missed', 3);
    await waitFor(() => running!.poller.status().sites[0]!.events.visits >= 15, 'the poller to write the missed visits');
    const witness = TestClient.connect(`${url}&rewind=3`);
    clients.push(witness);
    await untilVisits(witness, 3);
    expect(cities(visitsOf(witness))).toEqual(missed);
    const again = TestClient.connect(`${url}&since=${lastId}`);
    clients.push(again);
    expect(cities(await untilVisits(again, 3))).toEqual(missed);
    expect(resetsOf(again)).toEqual([]);
  });
});
