/**
 * Issue 20's poller-side attacks, end to end: the Matomo simulator over
 * HTTP, the poller with its Redis publisher (leases, the atomic script), a
 * real Redis, a gateway with its Redis feed, and real clients — the client
 * library (its seq filter) and raw WebSockets.
 *
 * - poisoned state (anyone on Redis's network): a stored seq of 2^53 − 1,
 *   "abc" or -5, and a snapshot of seq 2^53 − 1 published to every screen,
 *   do not stop the next change from reaching a connected client;
 * - a 1 MiB city name from a tracker leaves a snapshot of a few KiB, and no
 *   client is closed;
 * - Redis coming back empty: the visits the restarted cursor re-reads reach
 *   event clients marked `history`, the next new visit does not.
 */
import { connectLive, type LiveClient, type Snapshot } from '@matomo-live/client';
import { type VisitEventMessage } from '@matomo-live/protocol';
import type { MatomoSim } from '@matomo-live/matomo-sim';
import { redisNames } from '@matomo-live/shared';
import { nonEventsOf, visitsOf } from '@matomo-live/test-support/events';
import type { RunningGateway } from '@matomo-live/test-support/gateway';
import { capturedLogger } from '@matomo-live/test-support/logger';
import type { RedisScope } from '@matomo-live/test-support/redis';
import { waitFor } from '@matomo-live/test-support/wait-for';
import { TestClient } from '@matomo-live/test-support/ws-client';
import { startSplitPipeline, type SplitPipeline } from './support/split-pipeline';

const TOKEN = 'hostile-token-0123456789';
const SIM_TOKEN = 'hostile-sim-token';

jest.setTimeout(60_000);

describe('a hostile world, poller side: poisoned Redis state, huge Matomo fields, Redis back empty', () => {
  let sim: MatomoSim;
  let redis: RedisScope;
  let gateway: RunningGateway;
  let pipeline: SplitPipeline | undefined;
  const log = capturedLogger('info');
  const raw: TestClient[] = [];
  const live: LiveClient[] = [];
  let names: ReturnType<typeof redisNames>;

  /** A client-library client: its snapshots as delivered to the application. */
  function libraryClient(): { client: LiveClient; snapshots: Snapshot[] } {
    const snapshots: Snapshot[] = [];
    const client = connectLive({ url: gateway.url, token: TOKEN, site: 1, initialBackoffMs: 100 });
    client.on('snapshot', (snapshot) => snapshots.push(snapshot));
    live.push(client);
    return { client, snapshots };
  }

  const rawClient = (query = '') => {
    const client = TestClient.connect(`${gateway.url}?token=${TOKEN}${query}`);
    raw.push(client);
    return client;
  };

  const cityIn = (snapshot: Snapshot | undefined, city: string) => snapshot?.visits_live.some((v) => v.city === city) ?? false;

  beforeAll(async () => {
    pipeline = await startSplitPipeline({ scope: 'hostile', simToken: SIM_TOKEN, token: TOKEN, logger: log.logger });
    ({ sim, redis, gateway } = pipeline);
    names = redisNames(redis.prefix, 1);
  });

  afterAll(async () => {
    for (const client of live) client.close();
    for (const client of raw) client.ws.terminate();
    await pipeline?.stop();
  });

  it.each(['9007199254740991', 'abc', '-5'])(
    'a stored seq of %s does not wedge the site: the next change reaches a client',
    async (poison) => {
      const { snapshots } = libraryClient();
      sim.addVisit({ city: `before ${poison}`, latitude: 1, longitude: 2 });
      await waitFor(() => cityIn(snapshots.at(-1), `before ${poison}`), 'the client is live');
      const errorsBefore = log.lines().filter((l) => l.level === 50).length;

      await redis.command.hset(names.stateKey, 'seq', poison);
      sim.addVisit({ city: `after ${poison}`, latitude: 3, longitude: 4 });
      await waitFor(() => cityIn(snapshots.at(-1), `after ${poison}`), `the change after seq ${poison}`);

      const stored = await redis.command.hget(names.stateKey, 'seq');
      expect(stored).toMatch(/^\d{13}$/);
      expect(snapshots.at(-1)!.seq).toBe(Number(stored));
      const errors = log.lines().filter((l) => l.level === 50);
      expect(errors.slice(errorsBefore)).toEqual([expect.objectContaining({ corrupt: 'seq', msg: expect.stringContaining('stored seq') })]);
    },
  );

  it('a snapshot of seq 2^53 − 1 published to every screen: the next real change still reaches a client library and a raw client', async () => {
    const { snapshots } = libraryClient();
    const plain = rawClient();
    await waitFor(() => snapshots.length > 0, 'the first snapshot');
    await plain.nextMessages(1);
    const current = (await redis.command.getBuffer(names.snapshotKey))!.toString();
    const poisoned = current.replace(/"seq":\d+/, `"seq":${Number.MAX_SAFE_INTEGER}`).replace(/"city":"[^"]*"/, '"city":"Poisoned"');
    await redis.command
      .multi()
      .set(names.snapshotKey, poisoned)
      .hset(names.stateKey, 'seq', String(Number.MAX_SAFE_INTEGER))
      .publish(names.snapshotChannel, poisoned)
      .exec();
    await waitFor(() => snapshots.some((s) => s.seq === Number.MAX_SAFE_INTEGER), 'the poisoned snapshot at the client');

    sim.addVisit({ city: 'After the poisoned snapshot', latitude: 5, longitude: 6 });
    await waitFor(() => cityIn(snapshots.at(-1), 'After the poisoned snapshot'), 'the real change at the client library');
    expect(snapshots.at(-1)!.seq).toBeLessThan(Number.MAX_SAFE_INTEGER);
    await plain.until(
      () => nonEventsOf(plain).some((m) => cityIn(m as unknown as Snapshot, 'After the poisoned snapshot')),
      'the real change at the raw client',
    );
    // Nothing was closed on the way.
    expect(plain.closeCode).toBeUndefined();
  });

  it('a 1 MiB city name leaves a snapshot of a few KiB and closes no client', async () => {
    const plain = rawClient('&events=visits');
    await plain.nextMessages(1);
    // 1 MiB of city, and 100 KiB of browser and referrer (the answer, every copy of them, stays under the 8 MiB cap).
    sim.addVisit({
      city: 'Ω'.repeat(1 << 19),
      latitude: 7,
      longitude: 8,
      browserName: 'Ω'.repeat(50_000),
      referrerName: 'Ω'.repeat(50_000),
    });
    const cut = 'Ω'.repeat(200);
    await plain.until(() => nonEventsOf(plain).some((m) => cityIn(m as unknown as Snapshot, cut)), 'the snapshot with the capped city');
    await plain.until(() => visitsOf(plain).some((e) => e.visit.city === cut), 'the visit event with the capped city');
    const largest = Math.max(...plain.messages.map((m) => Buffer.byteLength(m)));
    expect(largest).toBeLessThan(8 * 1024);
    expect((await redis.command.strlen(names.snapshotKey)) < 8 * 1024).toBe(true);
    expect(visitsOf(plain).find((e) => e.visit.city === cut)!.visit).toMatchObject({ browserName: cut, source: cut });
    expect(plain.closeCode).toBeUndefined();
  });

  it('Redis back empty: the re-read visits reach event clients marked history, the next new one not', async () => {
    const seen = sim.addVisit({ city: 'Seen before the loss', latitude: 9, longitude: 10 });
    // Matomo's times are whole seconds, and the restart's own second counts as new: lose Redis in a later one.
    await waitFor(() => Date.now() >= ((seen.lastActionTimestamp as number) + 1) * 1000, 'the second after the visit');
    const announced = async () => {
      const all = await redis.command.xrange(names.eventsKey, '-', '+');
      return all.some(([, fields]) => fields.join(' ').includes('Seen before the loss'));
    };
    await waitFor(announced, 'the visit announced once');
    // Connected after it: without rewind, this client has seen no visit event before the loss.
    const events = rawClient('&events=visits');
    await events.until(() => events.messages.some((m) => m.includes('"events_reset"')), 'the starting reset');

    // What a lost volume or a fresh Redis looks like to this site: none of its keys left (snapshot, state, lease,
    // stream, cursor). The gateway's fleet keys stay, so it keeps this connection (a resume would be told
    // `since-unknown` instead of being sent the re-published visits).
    const keys = await redis.command.keys(`{${redis.prefix}site:1}*`);
    await redis.command.del(...keys);
    await waitFor(async () => (await redis.command.hget(names.cursorKey, 'history_until')) !== null, 'the restarted cursor');

    const again = (city: string) => visitsOf(events).filter((e: VisitEventMessage) => e.visit.city === city);
    await events.until(() => again('Seen before the loss').length > 0, 'the re-read visit');
    expect(again('Seen before the loss').map((e) => e.visit.history)).toEqual([true]);
    expect(Number(await redis.command.hget(names.cursorKey, 'history_until'))).toBeGreaterThan(0);
    const republished = visitsOf(events);
    expect(republished.length).toBeGreaterThan(1);
    expect(republished.every((e) => e.visit.history === true)).toBe(true);

    sim.addVisit({ city: 'New after the loss', latitude: 11, longitude: 12 });
    await events.until(() => again('New after the loss').length > 0, 'the new visit');
    expect(again('New after the loss')[0]!.visit).not.toHaveProperty('history');
    expect(events.closeCode).toBeUndefined();
  });
});
