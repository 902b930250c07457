import { once } from 'node:events';
import { decodeSnapshot, staleAfterMs, type Snapshot } from '@matomo-live/protocol';
import {
  createRedisClient,
  decodeHeartbeat,
  formatLocalDateTime,
  InMemorySnapshotBus,
  parseSiteTimezone,
  redisNames,
  type RedisClient,
  type SiteHeartbeat,
} from '@matomo-live/shared';
import { startMatomoSim, type FaultInput, type MatomoSim, type RequestRecord } from '@matomo-live/matomo-sim';
import { capturedLogger, silentLogger } from '@matomo-live/test-support/logger';
import { spawnRedisServer } from '@matomo-live/test-support/redis';
import { singleNode } from '@matomo-live/test-support/redis-ha';
import { startHealthServer } from '../src/health-server';
import { createPoller, type Poller, type PollerOptions } from '../src/poller';
import { PollerMetrics } from '../src/poller-metrics';
import { RedisLeaseManager, type LeaseManager } from '../src/redis-lease';
import { RedisSnapshotPublisher } from '../src/redis-publisher';
import type { SitePart as SitePartName } from '../src/bulk-request';
import { expectAuthBlocked, ManualClock, SIM_TOKEN, testConfig, waitFor, watchRedis, type RedisWatch } from './support/harness';

let sim: MatomoSim;
let watch: RedisWatch;
const cleanups: Array<() => Promise<void> | void> = [];

beforeEach(async () => {
  sim = await startMatomoSim({ token: SIM_TOKEN, siteIds: [1, 2], timezone: 'Europe/Paris' });
  sim.setSummary({ today: { nb_visits: 3, sum_visit_length: 125 }, yesterday: { nb_visits: 10, sum_visit_length: 3600 } });
  watch = await watchRedis([1, 2]);
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await sim.close();
  await watch.close();
});

interface Started {
  poller: Poller;
  redis: RedisClient;
  log: ReturnType<typeof capturedLogger>;
}

/** The poller's kind of connection (createRedisClient 'poller'), its errors not logged. */
const pollerRedis = (url: string): RedisClient => createRedisClient(singleNode(url), 'poller', { logger: silentLogger });

/**
 * A poller connection for a lease manager, ready and closed after the test. The poller's connections queue
 * nothing while connecting (enableOfflineQueue: false): a lease round on a connection not ready yet fails.
 */
async function leaseRedis(): Promise<RedisClient> {
  const redis = pollerRedis(watch.url);
  cleanups.push(() => redis.disconnect());
  await once(redis, 'ready');
  return redis;
}

/** A poller on the simulator and the shared Redis (own connection), stopped after the test. */
async function startPoller(
  env: Record<string, string> = {},
  extra: Partial<PollerOptions> & { leased?: boolean; redisUrl?: string } = {},
): Promise<Started> {
  const redisUrl = extra.redisUrl ?? watch.url;
  const config = testConfig(sim, redisUrl, watch.prefix, { MATOMO_SITE_IDS: '1,2', ...env });
  const redis = pollerRedis(redisUrl);
  const log = capturedLogger();
  const leases = extra.leases ?? (extra.leased ? new RedisLeaseManager(redis, config.leaseTtlMs, watch.prefix) : undefined);
  const poller = createPoller({ config, publisher: new RedisSnapshotPublisher(redis, watch.prefix), logger: log.logger, leases, ...extra });
  cleanups.push(async () => {
    await poller.stop();
    redis.disconnect();
  });
  // As poller-process does: the poller copes with a Redis that is not ready yet, but tests start from a connected one.
  if (!extra.redisUrl) await once(redis, 'ready');
  await poller.start();
  return { poller, redis, log };
}

const snapshots = (siteId = 1): Snapshot[] =>
  watch.messages(siteId).map((bytes) => {
    const decoded = decodeSnapshot(bytes);
    if ('error' in decoded) throw new Error(`published bytes are not a snapshot: ${decoded.error}`);
    return decoded.snapshot;
  });

/** Waits until the simulator has answered `more` further API requests. */
const moreRequests = (more: number) => sim.waitForRequests(sim.stats().requests + more, 15_000);

describe('polling and publishing', () => {
  it('publishes the first snapshot once, in the reference shape plus extras, and nothing while unchanged', async () => {
    sim.addVisit({ city: 'Bezons', latitude: 48.924, longitude: 2.213, actions: 3, referrerName: 'Google', visitIp: '12.123.0.0' });
    await startPoller();
    await waitFor(() => watch.messages().length === 1, 'the first snapshot');
    await moreRequests(5);
    expect(watch.messages()).toHaveLength(1);
    const [snapshot] = snapshots();
    expect(Object.keys(snapshot!).slice(0, 2)).toEqual(['visits_live', 'summary']);
    expect(snapshot).toMatchObject({
      site: 1,
      timezone: 'Europe/Paris',
      visits_live: [{ city: 'Bezons', latitude: 48.924, longitude: 2.213, actions: 3, source: 'Google', visitIp: '' }],
      summary: {
        today: { visits: 4, time_spent: expect.stringMatching(/^\d\d:\d\d:\d\d$/) },
        yesterday: { visits: 10, time_spent: '01:00:00' },
        day_before: { visits: 0, time_spent: '00:00:00' },
      },
      counters: { minutes: 30, visits: 1, actions: 3 },
    });
    expect(await watch.command.getBuffer(redisNames(watch.prefix, 1).snapshotKey)).toEqual(watch.messages()[0]);
  });

  it('makes one POST per tick, token in the body only, and folds totals in only when due', async () => {
    await startPoller({ SUMMARY_INTERVAL: '60000' });
    await sim.waitForRequests(15);
    const stats = sim.stats();
    expect(stats.bulkRequests).toBe(stats.requests);
    expect(stats.tokenInUrl).toBe(0);
    for (const r of stats.recent) {
      expect(r).toMatchObject({
        httpMethod: 'POST',
        url: '/index.php?module=API&method=API.getBulkRequest&format=json',
        tokenInBody: true,
        tokenInUrl: false,
      });
    }
    // Both sites in each single request: the incremental fetch every tick, the full read of the latest visits only
    // on the first (LIVE_REFRESH_INTERVAL is 60 s).
    expect(stats.subRequests['Live.getLastVisitsDetails']).toBe(2 * stats.requests + 2);
    expect(stats.recent.filter((r) => r.body.includes('filter_sort_order%3Dasc')).length).toBe(stats.recent.length);
    // Totals (and the timezone) once per SUMMARY_INTERVAL, not every tick.
    expect(stats.subRequests['VisitsSummary.get']).toBe(2);
    expect(stats.subRequests['SitesManager.getSiteFromId']).toBe(2);
  });

  it("publishes a new visit once, with its time in the site's timezone, and each site on its own channel", async () => {
    sim.setSite({ siteId: 2, timezone: 'UTC-4.5' });
    await startPoller();
    await waitFor(() => watch.messages(1).length === 1 && watch.messages(2).length === 1, "both sites' first snapshots");
    const visit = sim.addVisit({ siteId: 2, city: 'Lyon', latitude: 45.764, longitude: 4.8357 });
    const before = sim.stats().requests;
    await waitFor(() => watch.messages(2).length === 2, 'the new visit');
    expect(sim.stats().requests - before).toBeLessThanOrEqual(2);
    await moreRequests(3);
    expect(watch.messages(2)).toHaveLength(2);
    expect(watch.messages(1)).toHaveLength(1);
    const latest = snapshots(2)[1]!;
    const instant = (visit.lastActionTimestamp as number) * 1000;
    expect(latest.visits_live[0]).toMatchObject({
      city: 'Lyon',
      lastActionDateTime: formatLocalDateTime(instant, parseSiteTimezone('UTC-4.5')),
      lastActionUtc: new Date(instant).toISOString().replace('.000Z', 'Z'),
    });
    expect(latest.timezone).toBe('UTC-4.5');
    expect(latest.seq).toBeGreaterThan(snapshots(2)[0]!.seq);
  });

  it('fetches the totals again once SUMMARY_INTERVAL has passed', async () => {
    await startPoller({ SUMMARY_INTERVAL: '1000' });
    await waitFor(() => watch.messages().length === 1, 'the first snapshot');
    sim.setSummary({ siteId: 1, today: { nb_visits: 77, sum_visit_length: 60, bounce_count: 7 } });
    await waitFor(() => watch.messages().length === 2, 'the new totals');
    // Time spent, bounces and unique visitors come from the archive; visits and actions from raw logs (below).
    expect(snapshots()[1]!.summary.today).toMatchObject({ time_spent: '00:01:00', bounce_count: 7, unique_visitors: 77 });
  });

  it('after the site\'s midnight, fetches the totals at once so "today" is the new day', async () => {
    // 23:59:50 in Paris (UTC+1 in winter); timers short enough run by themselves, the clock moves only when told.
    const clock = new ManualClock(Date.parse('2024-01-15T22:59:50Z'), 500);
    await sim.close();
    sim = await startMatomoSim({ token: SIM_TOKEN, siteIds: [1], now: clock.now });
    sim.setSummary({ today: { nb_visits: 40, sum_visit_length: 400 } });
    await startPoller({ MATOMO_SITE_IDS: '1', SUMMARY_INTERVAL: '3600000' }, { clock });
    await waitFor(() => watch.messages().length === 1, 'the first snapshot');
    expect(snapshots()[0]!.summary).toMatchObject({ today: { date: '2024-01-15', visits: 40 }, yesterday: { date: '2024-01-14' } });
    clock.advance(20_000);
    await waitFor(() => watch.messages().length === 2, 'the snapshot of the new day');
    expect(snapshots()[1]!.summary).toMatchObject({
      today: { date: '2024-01-16', visits: 0 },
      yesterday: { date: '2024-01-15', visits: 40 },
    });
    expect(sim.stats().subRequests['VisitsSummary.get']).toBe(2);
  });

  it('a restarted poller does not republish unchanged data, and continues the seq', async () => {
    const first = await startPoller();
    await waitFor(() => watch.messages().length === 1, 'the first snapshot');
    await first.poller.stop();
    const second = await startPoller();
    await moreRequests(5);
    expect(watch.messages()).toHaveLength(1);
    expect(second.poller.status().sites[0]!.seq).toBe(snapshots()[0]!.seq);
    sim.addVisit({ city: 'Paris' });
    await waitFor(() => watch.messages().length === 2, 'the change after restart');
    expect(snapshots()[1]!.seq).toBeGreaterThan(snapshots()[0]!.seq);
  });

  it('never writes the token to the log, even at debug level and when it is refused', async () => {
    const { log } = await startPoller({}, { timing: { authRetryMs: 50 } });
    await waitFor(() => watch.messages().length === 1, 'the first snapshot');
    sim.injectFault({ kind: 'auth', count: 2 });
    sim.injectFault({ kind: 'html-login' });
    await moreRequests(4);
    expect(log.lines().length).toBeGreaterThan(2);
    expect(log.text()).not.toContain(SIM_TOKEN);
  });
});

describe('faults: nothing is published, and the poller recovers by itself', () => {
  const cases: Array<[string, FaultInput]> = [
    ['HTTP 5xx', { kind: 'http-5xx', count: 3 }],
    ['a timeout', { kind: 'timeout', count: 2 }],
    ['a connection reset', { kind: 'reset', count: 3 }],
    ['invalid JSON', { kind: 'invalid-json', count: 3 }],
    ['an HTML login page', { kind: 'html-login', count: 3 }],
    ['an error for the whole request', { kind: 'error', count: 3 }],
    ['an error in the visits sub-request', { kind: 'sub-error', method: 'Live.getLastVisitsDetails', count: 3 }],
    ['a wrong shape in the visits sub-request', { kind: 'bad-shape', method: 'Live.getLastVisitsDetails', count: 3 }],
  ];

  it.each(cases)('%s', async (_what, fault) => {
    const { poller } = await startPoller({ MATOMO_TIMEOUT: '300' });
    await waitFor(() => watch.messages().length === 1, 'the first snapshot');
    sim.injectFault(fault);
    await waitFor(() => (sim.stats().faultsServed[fault.kind] ?? 0) >= 1, 'the first faulty answer');
    // New data arrives while Matomo misbehaves: it must only appear once a whole good answer does.
    sim.addVisit({ city: 'Recovered', latitude: 1, longitude: 2 });
    // lastError stays after the recovery: a failed tick cannot be missed between two looks.
    await waitFor(() => poller.status().lastError !== null, 'the failure to be seen');
    await waitFor(() => watch.messages().length >= 2, 'the recovery snapshot');
    await moreRequests(2);
    expect(watch.messages()).toHaveLength(2);
    expect(snapshots()[1]!.visits_live[0]).toMatchObject({ city: 'Recovered' });
    expect(snapshots()[1]!.counters).toMatchObject({ visits: 1 });
    expect(poller.status()).toMatchObject({ consecutiveFailures: 0, authBlocked: false, healthy: true });
  });

  it('a refused connection', async () => {
    await startPoller();
    await waitFor(() => watch.messages().length === 1, 'the first snapshot');
    const answered = sim.stats().requests;
    sim.injectFault({ kind: 'refused', durationMs: 1000 });
    sim.addVisit({ city: 'Recovered', latitude: 1, longitude: 2 });
    await waitFor(() => watch.messages().length >= 2, 'the recovery snapshot');
    expect(sim.stats().requests).toBeGreaterThan(answered);
    expect(watch.messages()).toHaveLength(2);
    expect(snapshots()[1]!.visits_live[0]).toMatchObject({ city: 'Recovered' });
  });

  it('keeps the previous summary when only the totals sub-request fails, and retries it next tick', async () => {
    const { poller } = await startPoller({ SUMMARY_INTERVAL: '1000' });
    await waitFor(() => watch.messages().length === 1, 'the first snapshot');
    sim.injectFault({ kind: 'sub-error', method: 'VisitsSummary.get', count: 2 });
    sim.setSummary({ today: { nb_visits: 99, sum_visit_length: 99 } });
    await waitFor(() => (sim.stats().faultsServed['sub-error'] ?? 0) === 2, 'both faulty totals');
    await waitFor(() => watch.messages().length === 2, 'the new totals');
    expect(snapshots()[1]!.summary.today.time_spent).toBe('00:01:39');
    expect(poller.status()).toMatchObject({
      consecutiveFailures: 0,
      sites: [expect.objectContaining({ failingParts: [] }), expect.anything()],
    });
  });

  it('after a token refusal, tries at most once per auth retry period, says so loudly, and recovers', async () => {
    const clock = new ManualClock(Date.now(), 50);
    await sim.close();
    sim = await startMatomoSim({ token: SIM_TOKEN, siteIds: [1], now: clock.now });
    sim.injectFault({ kind: 'auth', count: -1 });
    // heartbeatMs 0: the only timer held is the tick's (heartbeats on their timer: 'heartbeats' below).
    const { poller, log } = await startPoller({ MATOMO_SITE_IDS: '1' }, { clock, timing: { random: () => 0, heartbeatMs: 0 } });
    await waitFor(() => poller.status().authBlocked, 'the auth block');
    expect(sim.stats().requests).toBe(1);
    expectAuthBlocked(poller, clock, log.lines, 'token-refused');
    expect(watch.messages()).toHaveLength(0);

    clock.advance(299_999);
    expect(sim.stats().requests).toBe(1);
    // Still held, due in 1 ms: nothing fired early (a request could not reach the simulator synchronously anyway).
    expect(clock.pendingDelays()).toEqual([1]);
    clock.advance(1); // one attempt, still refused: the next one is 5 minutes later again
    await sim.waitForRequests(2);
    await waitFor(() => clock.pendingDelays()[0] === 300_000, 'the next slow attempt');
    expect(sim.stats().requests).toBe(2);

    sim.clearFaults();
    clock.advance(300_000);
    await waitFor(() => watch.messages().length === 1, 'the snapshot after the token works again');
    await waitFor(() => !poller.status().authBlocked, 'the block to lift');
    expect(poller.status()).toMatchObject({ healthy: true, consecutiveFailures: 0 });
  });

  it('keeps running while Redis is down and publishes the current state once it is back (even empty)', async () => {
    const privateRedis = await spawnRedisServer();
    cleanups.push(() => privateRedis.stop());
    const { poller } = await startPoller({}, { redisUrl: privateRedis.url, leased: true });
    const reader = pollerRedis(privateRedis.url);
    cleanups.push(() => reader.disconnect());
    const key = redisNames(watch.prefix, 1).snapshotKey;
    await waitFor(async () => reader.status === 'ready' && (await reader.exists(key)) === 1, 'the first snapshot in the private Redis');
    const firstSeq = (JSON.parse((await reader.get(key))!) as Snapshot).seq;
    await privateRedis.stop();
    sim.addVisit({ city: 'While Redis was down', latitude: 1, longitude: 1 });
    await waitFor(() => poller.status().lastError?.kind === 'publish', 'the publish failure');
    expect(poller.status().running).toBe(true);
    await privateRedis.start();
    await waitFor(
      async () => reader.status === 'ready' && (await reader.exists(key).catch(() => 0)) === 1,
      'the snapshot after Redis came back',
      20_000,
    );
    const after = JSON.parse((await reader.get(key))!) as Snapshot;
    expect(after.visits_live[0]).toMatchObject({ city: 'While Redis was down' });
    expect(after.seq).toBeGreaterThan(firstSeq);
    expect(await reader.get(redisNames(watch.prefix, 1).leaseKey)).not.toBeNull();
  });
});

/** The reference message's shape: what existing screens parse. */
function expectReferenceShape(snapshot: Snapshot): void {
  expect(Object.keys(snapshot).slice(0, 2)).toEqual(['visits_live', 'summary']);
  for (const day of ['today', 'yesterday', 'day_before'] as const) {
    expect(snapshot.summary[day]).toEqual(
      expect.objectContaining({
        visits: expect.any(Number),
        time_spent: expect.stringMatching(/^\d\d+:\d\d:\d\d$/),
        date: expect.any(String),
      }),
    );
  }
}

/** Adds a visit and resolves once a snapshot holding it is published; returns how many requests that took. */
async function newVisitPublished(city: string, siteId = 1): Promise<{ requests: number; snapshot: Snapshot }> {
  const before = sim.stats().requests;
  sim.addVisit({ siteId, city, latitude: 1, longitude: 2 });
  const snapshot = await waitFor(() => snapshots(siteId).find((s) => s.visits_live.some((v) => v.city === city)), `the visit in ${city}`);
  return { requests: sim.stats().requests - before, snapshot };
}

describe('partial failures: each part of the answer is judged alone', () => {
  const parts: Array<[string, FaultInput, SitePartName]> = [
    ['the daily totals (VisitsSummary.get)', { kind: 'sub-error', method: 'VisitsSummary.get', count: -1 }, 'summary'],
    ['the 30-minute counters', { kind: 'sub-error', method: 'Live.getCounters', params: { lastMinutes: '30' }, count: -1 }, 'counters'],
    [
      "today's raw counts",
      { kind: 'sub-error', method: 'Live.getCounters', params: { showColumns: 'visits,actions' }, count: -1 },
      'today',
    ],
    ['the timezone (SitesManager)', { kind: 'bad-shape', method: 'SitesManager.getSiteFromId', count: -1 }, 'site'],
  ];

  it.each(parts)(
    'with %s failing, a new visit is still published within two intervals, the last good value kept and marked stale, one warning per streak',
    async (_what, fault, part) => {
      const { poller, log } = await startPoller({ MATOMO_SITE_IDS: '1', SUMMARY_INTERVAL: '1000', TODAY_INTERVAL: '1000' });
      await waitFor(() => snapshots().some((s) => s.summary.today.visits > 0 || s.visits_live.length === 0), 'the first snapshot');
      await waitFor(() => poller.status().sites[0]!.todayAgeSeconds !== null, "today's first raw counts");
      const first = snapshots()[0]!;
      sim.injectFault(fault);
      await waitFor(() => (sim.stats().faultsServed[fault.kind] ?? 0) >= 2, 'two failures of the part');
      const { requests, snapshot } = await newVisitPublished('Despite the failure');
      expect(requests).toBeLessThanOrEqual(2);
      expectReferenceShape(snapshot);
      expect(snapshot.timezone).toBe('Europe/Paris');
      if (part === 'summary') expect(snapshot.summary.yesterday).toEqual(first.summary.yesterday);
      if (part === 'counters') expect(snapshot.counters).toEqual(first.counters);
      const site = poller.status().sites[0]!;
      expect(site.failingParts).toEqual([
        expect.objectContaining({
          part,
          failures: expect.any(Number),
          error: expect.stringMatching(/Lock wait timeout|expected|no timezone/),
        }),
      ]);
      expect(site.lastError).toBeNull();
      expect(poller.status()).toMatchObject({ healthy: true, consecutiveFailures: 0 });
      const ages: Partial<Record<SitePartName, number | null>> = {
        summary: site.summaryAgeSeconds,
        counters: site.countersAgeSeconds,
        today: site.todayAgeSeconds,
        site: 0,
      };
      expect(ages[part]).toEqual(expect.any(Number));
      await waitFor(() => (sim.stats().faultsServed[fault.kind] ?? 0) >= 5, 'more failures of the part');
      const warnings = log.lines().filter((l) => l.level === 40 && String(l.msg).startsWith('part of the Matomo answer failed'));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatchObject({ siteId: 1, part });
      sim.clearFaults();
      await waitFor(() => poller.status().sites[0]!.failingParts.length === 0, 'the part to work again');
      expect(log.lines().some((l) => l.level === 30 && l.msg === 'part of the Matomo answer works again' && l.part === part)).toBe(true);
    },
  );

  it('a site whose timezone was never known publishes nothing and says why; it publishes once SitesManager answers', async () => {
    sim.injectFault({ kind: 'sub-error', method: 'SitesManager.getSiteFromId', count: 3 });
    const { poller } = await startPoller({ MATOMO_SITE_IDS: '1' });
    await waitFor(() => poller.status().sites[0]!.lastError, 'the reason');
    expect(poller.status().sites[0]!.lastError).toMatch(/^site 1: timezone unknown \(SitesManager.getSiteFromId\), nothing published: /);
    expect(watch.messages()).toHaveLength(0);
    await waitFor(() => watch.messages().length === 1, 'the snapshot once the timezone is known');
    expect(poller.status().sites[0]).toMatchObject({ timezone: 'Europe/Paris', lastError: null });
  });

  it('a site whose daily totals never came publishes nothing (the reference shape needs them) and says so', async () => {
    sim.injectFault({ kind: 'sub-error', method: 'VisitsSummary.get', count: 2, message: 'archiving lock' });
    const { poller } = await startPoller({ MATOMO_SITE_IDS: '1' });
    await waitFor(() => poller.status().sites[0]!.lastError, 'the reason');
    expect(poller.status().sites[0]!.lastError).toBe(
      'site 1: no daily totals yet (VisitsSummary.get), nothing published: VisitsSummary.get (site 1): archiving lock',
    );
    expect(watch.messages()).toHaveLength(0);
    await waitFor(() => watch.messages().length === 1, 'the snapshot once the totals come');
    expectReferenceShape(snapshots()[0]!);
  });

  it('a failing part is retried after 1, 2, 4… base delays (capped by its interval), not every tick', async () => {
    // Timers of up to 100 ms (the ticks) run by themselves; the clock moves only when told.
    const clock = new ManualClock(Date.now(), 100);
    await sim.close();
    sim = await startMatomoSim({ token: SIM_TOKEN, siteIds: [1], now: clock.now });
    await startPoller({ MATOMO_SITE_IDS: '1', SUMMARY_INTERVAL: '1000' }, { clock });
    await waitFor(() => watch.messages().length === 1, 'the first snapshot');
    sim.injectFault({ kind: 'sub-error', method: 'VisitsSummary.get', count: -1 });
    const asked = () => sim.stats().faultsServed['sub-error'] ?? 0;
    clock.advance(1000); // due: asked, fails
    await waitFor(() => asked() === 1, 'the first failure');
    const expectAsked = async (times: number) => {
      await moreRequests(3);
      expect(asked()).toBe(times);
    };
    await expectAsked(1);
    clock.advance(99);
    await expectAsked(1);
    clock.advance(1); // 100 ms (the base: min(FETCH_INTERVAL, 1 s)) after the first failure
    await waitFor(() => asked() === 2, 'the second attempt');
    await expectAsked(2); // (the poller has handled the failure before the clock moves on)
    clock.advance(199);
    await expectAsked(2);
    clock.advance(1); // 200 ms after the second
    await waitFor(() => asked() === 3, 'the third attempt');
    await expectAsked(3);
  });

  it("after the site's midnight with the totals failing, yesterday is what was today and today counts from zero", async () => {
    const clock = new ManualClock(Date.parse('2024-01-15T22:59:50Z'), 500); // 23:59:50 in Paris
    await sim.close();
    sim = await startMatomoSim({ token: SIM_TOKEN, siteIds: [1], now: clock.now });
    sim.setSummary({ today: { nb_visits: 40, sum_visit_length: 400 }, yesterday: { nb_visits: 30, sum_visit_length: 300 } });
    await startPoller({ MATOMO_SITE_IDS: '1', SUMMARY_INTERVAL: '3600000' }, { clock });
    await waitFor(() => watch.messages().length === 1, 'the first snapshot');
    sim.injectFault({ kind: 'sub-error', method: 'VisitsSummary.get', count: -1 });
    clock.advance(20_000);
    sim.addVisit({ city: 'After midnight', latitude: 1, longitude: 1, actions: 2 });
    const snapshot = await waitFor(
      () => snapshots().find((s) => s.summary.today.date === '2024-01-16' && s.summary.today.visits === 1),
      'the new day',
    );
    expect(snapshot.summary).toMatchObject({
      today: { date: '2024-01-16', visits: 1, actions: 2, time_spent: '00:00:00' },
      yesterday: { date: '2024-01-15', visits: 40, time_spent: '00:06:40' },
      day_before: { date: '2024-01-14', visits: 30 },
    });
  });
});

/** Whether a bulk request recorded by the simulator holds a Live.getCounters for today (showColumns=visits,actions). */
const asksToday = (record: RequestRecord): boolean =>
  [...new URLSearchParams(record.body)].some(
    ([k, v]) => k.startsWith('urls[') && new URLSearchParams(v).get('showColumns') === 'visits,actions',
  );

describe('live "today": raw-log visits and actions since the site\'s midnight', () => {
  it("today's visits include visits tracked a moment ago and never fall below the 30-minute counters", async () => {
    // Raw logs hold 3 visits of a moment ago; the archive is behind (1 visit), as Matomo's is for up to 15 minutes.
    for (let i = 0; i < 3; i++) sim.addVisit({ city: `V${i}`, latitude: 1, longitude: 1, actions: 2 });
    sim.setSummary({ today: { nb_visits: 1, nb_actions: 1, sum_visit_length: 10 } });
    const { poller } = await startPoller({ MATOMO_SITE_IDS: '1', TODAY_INTERVAL: '1000' });
    await waitFor(() => poller.status().sites[0]!.todayAgeSeconds !== null, "today's raw counts");
    const latest = await waitFor(() => snapshots().find((s) => s.summary.today.visits >= 3), 'today with the new visits');
    expect(latest.summary.today).toMatchObject({ visits: 3, actions: 6, time_spent: '00:00:10' });
    // Every snapshot: today ≥ the 30-minute counters.
    for (const s of snapshots()) expect(s.summary.today.visits).toBeGreaterThanOrEqual(s.counters!.visits);
  });

  it("asks for today's counts at most once per TODAY_INTERVAL, folded into the same single request; 0 turns it off", async () => {
    const todayParts: number[] = [];
    sim.events.on('request', (r: RequestRecord) => {
      if (asksToday(r)) todayParts.push(Date.parse(r.at));
    });
    await startPoller({ MATOMO_SITE_IDS: '1', TODAY_INTERVAL: '1000' });
    await waitFor(() => todayParts.length >= 3, 'three rounds of today');
    expect(sim.stats().bulkRequests).toBe(sim.stats().requests);
    // Counted from request start on the poller's side; the simulator sees arrivals, give or take scheduling.
    for (let i = 1; i < todayParts.length; i++) expect(todayParts[i]! - todayParts[i - 1]!).toBeGreaterThanOrEqual(900);
    expect(todayParts.length).toBeLessThan(sim.stats().requests / 4);
    await sim.close();
    sim = await startMatomoSim({ token: SIM_TOKEN, siteIds: [1, 2], timezone: 'Europe/Paris' });
    await startPoller({ MATOMO_SITE_IDS: '1', TODAY_INTERVAL: '0' });
    await moreRequests(10);
    expect(sim.stats().recent.filter(asksToday)).toEqual([]);
  });

  it('an interval counts from when the part was asked: TODAY_INTERVAL = FETCH_INTERVAL asks it on every tick, however long Matomo takes', async () => {
    const clock = new ManualClock(Date.now()); // every timer waits for advance()
    await sim.close();
    sim = await startMatomoSim({ token: SIM_TOKEN, siteIds: [1], now: clock.now });
    // Each answer takes 300 ms of the poller's time.
    sim.events.on('request', () => clock.advance(300));
    const asked: boolean[] = [];
    sim.events.on('request', (r: RequestRecord) => asked.push(asksToday(r)));
    await startPoller({ MATOMO_SITE_IDS: '1', FETCH_INTERVAL: '1000', TODAY_INTERVAL: '1000' }, { clock, timing: { heartbeatMs: 0 } });
    for (let tick = 1; tick < 6; tick++) {
      await waitFor(() => asked.length === tick && clock.pendingDelays().length === 1, `tick ${tick}`);
      clock.advance(clock.pendingDelays()[0]!);
    }
    await waitFor(() => asked.length === 6, 'tick 6');
    // The first tick learns the timezone; from the second on, every tick asks for today.
    expect(asked).toEqual([false, true, true, true, true, true]);
  });

  it("in the first 30 minutes after midnight, yesterday's last visits in the counters do not count as today", async () => {
    const clock = new ManualClock(Date.parse('2024-01-15T23:10:00Z'), 500); // 00:10 in Paris
    await sim.close();
    sim = await startMatomoSim({ token: SIM_TOKEN, siteIds: [1], now: clock.now });
    sim.addVisit({ city: 'Late yesterday', latitude: 1, longitude: 1, lastActionTimestamp: clock.now() / 1000 - 15 * 60 });
    sim.setSummary({ today: null });
    const { poller } = await startPoller({ MATOMO_SITE_IDS: '1' }, { clock });
    await waitFor(() => poller.status().sites[0]!.todayAgeSeconds !== null && watch.messages().length > 0, "today's raw counts");
    const snapshot = snapshots().at(-1)!;
    expect(snapshot.counters).toMatchObject({ visits: 1 });
    expect(snapshot.summary.today).toMatchObject({ date: '2024-01-16', visits: 0 });
  });

  it("computes the minutes since midnight on Matomo's clock (its Date header), not ours", async () => {
    await sim.close();
    const ahead = 3 * 3_600_000 + 17 * 60_000;
    sim = await startMatomoSim({ token: SIM_TOKEN, siteIds: [1], timezone: 'UTC', now: () => Date.now() + ahead });
    const asked: number[] = [];
    sim.events.on('request', (r: { body: string }) => {
      const m = /lastMinutes=(\d+)&showColumns=visits%2Cactions/.exec(decodeURIComponent(r.body));
      if (m) asked.push(Number(m[1]));
    });
    const { poller } = await startPoller({ MATOMO_SITE_IDS: '1', TODAY_INTERVAL: '1000' });
    await waitFor(() => poller.status().matomoClockOffsetSeconds !== 0 && asked.length >= 2, 'the offset and a today request after it');
    expect(poller.status().matomoClockOffsetSeconds).toBeGreaterThan(ahead / 1000 - 3);
    expect(poller.status().matomoClockOffsetSeconds).toBeLessThan(ahead / 1000 + 3);
    const matomoNow = Date.now() + ahead;
    const expected = Math.ceil((matomoNow - Date.parse(new Date(matomoNow).toISOString().slice(0, 10))) / 60_000);
    expect(Math.abs(asked.at(-1)! - expected)).toBeLessThanOrEqual(1);
  });
});

describe('auth: a wrong token, a blocked IP', () => {
  it("a wrong token costs one failed login per start and one per 5 minutes: an hour with restarts stays within Matomo's 20", async () => {
    const clock = new ManualClock(Date.now(), 50);
    await sim.close();
    sim = await startMatomoSim({ token: SIM_TOKEN, siteIds: [1], now: clock.now });
    const first = await startPoller({ MATOMO_SITE_IDS: '1', MATOMO_TOKEN: 'wrong-token' }, { clock, timing: { heartbeatMs: 0 } });
    await waitFor(() => first.poller.status().authBlocked, 'the auth block');
    for (let i = 0; i < 11; i++) {
      clock.advance(300_000);
      await waitFor(() => sim.stats().authFailures === i + 2 && clock.pendingDelays()[0] === 300_000, `attempt ${i + 2}`);
    }
    await first.poller.stop();
    // Five restarts within the same hour: one attempt each.
    for (let i = 0; i < 5; i++) {
      const next = await startPoller({ MATOMO_SITE_IDS: '1', MATOMO_TOKEN: 'wrong-token' }, { clock });
      await waitFor(() => next.poller.status().authBlocked, `restart ${i + 1} blocked`);
      await next.poller.stop();
    }
    expect(sim.stats().authFailures).toBe(17);
    // Matomo (the simulator's brute-force model, same clock) still lets the right token in.
    const good = await startPoller({ MATOMO_SITE_IDS: '1' }, { clock });
    await waitFor(() => watch.messages().length === 1, 'a snapshot with the right token');
    expect(good.poller.status().authBlocked).toBe(false);
  });

  it('HTTP 500 "Too many failed logins" is authBlocked (ip-blocked): loud, one attempt per 5 minutes, over once unblocked', async () => {
    const clock = new ManualClock(Date.now(), 50);
    await sim.close();
    sim = await startMatomoSim({ token: SIM_TOKEN, siteIds: [1], now: clock.now });
    const query = '?module=API&method=API.getMatomoVersion&format=json';
    for (let i = 0; i < 21; i++)
      await fetch(`${sim.url}index.php${query}`, { method: 'POST', body: new URLSearchParams({ token_auth: 'x' }) });
    const { poller, log } = await startPoller({ MATOMO_SITE_IDS: '1' }, { clock, timing: { heartbeatMs: 0 } });
    await waitFor(() => poller.status().authBlocked, 'the block');
    expectAuthBlocked(poller, clock, log.lines, 'ip-blocked');
    expect(watch.messages()).toHaveLength(0);
    sim.unblock();
    clock.advance(300_000);
    await waitFor(() => watch.messages().length === 1, 'the snapshot once unblocked');
    expect(poller.status()).toMatchObject({ authBlocked: false, authBlockedReason: null, healthy: true });
  });
});

describe('failure kinds in the status and on /healthz', () => {
  const healthz = async (poller: Poller) => {
    const health = await startHealthServer({ port: 0, host: '127.0.0.1', status: () => poller.status() });
    cleanups.push(() => health.close());
    return (await (await fetch(`http://127.0.0.1:${health.port}/healthz`)).json()) as {
      lastError: { kind: string; message: string } | null;
    };
  };

  it('a publisher that rejects (Redis) is a publish failure', async () => {
    const publisher = {
      readState: async () => null,
      publishHeartbeat: async () => {},
      readCursor: async () => null,
      publish: async () => Promise.reject(new Error("READONLY You can't write against a read only replica")),
    };
    const { poller } = await startPoller({ MATOMO_SITE_IDS: '1' }, { publisher });
    await waitFor(() => poller.status().lastError, 'the failure');
    expect((await healthz(poller)).lastError).toMatchObject({ kind: 'publish', message: expect.stringContaining('READONLY') });
  });

  it('keeps its pace while only publishing fails (Redis failing over); Matomo failures back off', async () => {
    let redisDown = true;
    const publisher = {
      readState: async () => null,
      publishHeartbeat: async () => {},
      readCursor: async () => null,
      publish: async () =>
        redisDown ? Promise.reject(new Error('CLUSTERDOWN The cluster is down')) : { kind: 'published' as const, seq: 1 },
    };
    // random ≈ 1: each backoff at its ceiling, base·2^(n-1).
    const { poller, log } = await startPoller({ MATOMO_SITE_IDS: '1' }, { publisher, timing: { random: () => 0.999 } });
    const retries = () => log.lines().filter((l) => l.msg === 'tick failed; nothing published');
    await waitFor(() => poller.status().consecutiveFailures >= 5, 'five failed publishes');
    expect(retries().map((l) => [l.kind, (l.retryInMs as number) <= 100])).toEqual(retries().map(() => ['publish', true]));
    redisDown = false;
    await waitFor(() => poller.status().consecutiveFailures === 0, 'the publish after the failover');
    sim.injectFault({ kind: 'http-5xx', count: 4 });
    await waitFor(() => poller.status().consecutiveFailures >= 4, 'four Matomo failures');
    const matomo = retries().filter((l) => l.kind === 'http');
    expect(Math.max(...matomo.map((l) => l.retryInMs as number))).toBeGreaterThan(400);
  });

  it('an exception nothing expected is an internal failure, logged at error level with its stack', async () => {
    const publisher = {
      readState: async () => null,
      publishHeartbeat: async () => {},
      readCursor: async () => null,
      publish: (): never => {
        throw new TypeError('publisher bug');
      },
    };
    const { poller, log } = await startPoller({ MATOMO_SITE_IDS: '1' }, { publisher });
    await waitFor(() => poller.status().lastError, 'the failure');
    expect((await healthz(poller)).lastError).toMatchObject({ kind: 'internal', message: 'publisher bug' });
    const line = await waitFor(() => log.lines().find((l) => l.msg === 'tick failed; nothing published'), 'the log line');
    expect(line).toMatchObject({ level: 50, kind: 'internal' });
    expect((line.err as { stack: string }).stack).toMatch(/caused by: TypeError: publisher bug\n\s+at /);
  });
});

describe('several sites', () => {
  it('publishes the sites that answered well while one site keeps failing, and reports that site', async () => {
    const { poller } = await startPoller({ MATOMO_SITE_IDS: '1,3,2' });
    await waitFor(() => watch.messages(1).length === 1 && watch.messages(2).length === 1, "the good sites' snapshots");
    await waitFor(() => poller.status().consecutiveFailures > 0, 'the failing site to count');
    const site3 = poller.status().sites.find((s) => s.siteId === 3)!;
    expect(site3.lastError).toBe(
      "site 3: timezone unknown (SitesManager.getSiteFromId), nothing published: SitesManager.getSiteFromId (site 3): An unexpected website was found in the request: website id was set to '3' .",
    );
    expect(await watch.command.exists(redisNames(watch.prefix, 3).snapshotKey)).toBe(0);
    expect(poller.status().lastError).toMatchObject({ kind: 'api-error' });
  });
});

describe('leases', () => {
  /** A lease manager that cannot release: stopping its poller looks like a crash. */
  const crashing = (leases: LeaseManager): LeaseManager => ({
    owner: leases.owner,
    ttlMs: leases.ttlMs,
    acquire: (siteId) => leases.acquire(siteId),
    release: async () => undefined,
  });

  it('one poller leads; the standby asks Matomo nothing; it takes over within about two lease periods after a crash', async () => {
    const env = { LEASE_TTL: '1000', MATOMO_SITE_IDS: '1' };
    const leaderRedis = await leaseRedis();
    const leader = await startPoller(env, { leases: crashing(new RedisLeaseManager(leaderRedis, 1000, watch.prefix, 'leader')) });
    await waitFor(() => watch.messages().length === 1, "the leader's snapshot");
    const standby = await startPoller(env, { leased: true });
    await moreRequests(5);
    expect(standby.poller.status()).toMatchObject({ requests: 0, sites: [{ siteId: 1, leader: false }] });
    expect(leader.poller.status().sites[0]!.leader).toBe(true);

    await leader.poller.stop(); // crash: the lease stays until it expires
    const crashedAt = Date.now();
    sim.addVisit({ city: 'After failover', latitude: 1, longitude: 1 });
    await waitFor(() => watch.messages().length === 2, "the standby's snapshot");
    expect(Date.now() - crashedAt).toBeLessThan(5 * 1000); // ≈ 1.3 lease periods; generous for a loaded CI machine
    expect(snapshots()[1]!.visits_live[0]).toMatchObject({ city: 'After failover' });
    expect(standby.poller.status().sites[0]!.leader).toBe(true);
  });

  it('a standby says once that it is standby, and for which sites', async () => {
    const env = { LEASE_TTL: '60000', MATOMO_SITE_IDS: '1,2' };
    const leaderRedis = await leaseRedis();
    await startPoller(env, { leases: new RedisLeaseManager(leaderRedis, 60_000, watch.prefix, 'leader') });
    // Lease answers (not attempts): a round that failed says nothing about standby, so it must not count.
    let refused = 0;
    const counting = (leases: LeaseManager): LeaseManager => ({
      owner: leases.owner,
      ttlMs: leases.ttlMs,
      acquire: async (siteId) => {
        const held = await leases.acquire(siteId);
        if (!held) refused++;
        return held;
      },
      release: (siteId) => leases.release(siteId),
    });
    const standbyRedis = await leaseRedis();
    const standby = await startPoller(env, {
      leases: counting(new RedisLeaseManager(standbyRedis, 60_000, watch.prefix, 'standby')),
      timing: { leaseRefreshMs: 20 },
    });
    const said = () => standby.log.lines().filter((l) => String(l.msg).startsWith('standby'));
    await waitFor(() => said().length > 0, 'the standby line');
    const before = refused;
    await waitFor(() => refused >= before + 10, 'five more answered lease rounds of the standby');
    expect(said()).toEqual([expect.objectContaining({ level: 30, sites: [1, 2] })]);
  });

  it('while Redis is unreachable, lease rounds log one warning, and one line when they work again', async () => {
    let down = true;
    let failed = 0;
    const redis = await leaseRedis();
    const real = new RedisLeaseManager(redis, 1000, watch.prefix, 'flaky');
    const flaky: LeaseManager = {
      owner: real.owner,
      ttlMs: real.ttlMs,
      acquire: async (siteId) => {
        if (!down) return real.acquire(siteId);
        failed++;
        throw new Error('Connection is closed.');
      },
      release: (siteId) => real.release(siteId),
    };
    const { poller, log } = await startPoller(
      { LEASE_TTL: '1000', MATOMO_SITE_IDS: '1' },
      { leases: flaky, timing: { leaseRefreshMs: 20 } },
    );
    await waitFor(() => failed >= 8, 'eight failed lease rounds');
    down = false;
    await waitFor(() => poller.status().sites[0]!.leader, 'leadership once Redis is back');
    const about = log.lines().filter((l) => /^lease round/.test(String(l.msg)) || l.msg === 'lease rounds work again');
    expect(about.map((l) => [l.level, String(l.msg).split(':')[0]])).toEqual([
      [40, 'lease round failed'],
      [30, 'lease rounds work again'],
    ]);
    expect(about[1]!.failedRounds).toBeGreaterThanOrEqual(8);
  });

  it('a leader releases its lease when stopped, and the standby takes over at its next lease round', async () => {
    const env = { LEASE_TTL: '60000', MATOMO_SITE_IDS: '1' };
    const leaderRedis = await leaseRedis();
    const leader = await startPoller(env, { leases: new RedisLeaseManager(leaderRedis, 60_000, watch.prefix, 'leader') });
    await waitFor(() => watch.messages().length === 1, "the leader's snapshot");
    const standby = await startPoller(env, { leased: true, timing: { leaseRefreshMs: 200 } });
    expect(await watch.command.get(redisNames(watch.prefix, 1).leaseKey)).toBe('leader');
    await leader.poller.stop();
    expect(await watch.command.get(redisNames(watch.prefix, 1).leaseKey)).not.toBe('leader');
    await waitFor(() => standby.poller.status().sites[0]!.leader, 'the standby to lead', 5000);
    sim.addVisit({ city: 'Standby', latitude: 1, longitude: 1 });
    await waitFor(() => watch.messages().length === 2, "the standby's snapshot");
  });

  it('a leader whose lease key vanished takes it back at once', async () => {
    const { poller } = await startPoller({ LEASE_TTL: '1000', MATOMO_SITE_IDS: '1' }, { leased: true });
    await waitFor(() => poller.status().sites[0]!.leader, 'leadership');
    const leaseKey = redisNames(watch.prefix, 1).leaseKey;
    await watch.command.del(leaseKey);
    // The key can reappear in Redis a moment before the poller has read the reply that says it is ours again.
    await waitFor(
      async () => (await watch.command.exists(leaseKey)) === 1 && poller.status().sites[0]!.leader,
      'the lease to be retaken by this poller',
    );
  });

  it('fencing: a poller that lost its lease publishes nothing', async () => {
    const { poller } = await startPoller(
      { LEASE_TTL: '60000', MATOMO_SITE_IDS: '1' },
      { leased: true, timing: { leaseRefreshMs: 60_000 } },
    );
    await waitFor(() => watch.messages().length === 1, 'the first snapshot');
    await watch.command.set(redisNames(watch.prefix, 1).leaseKey, 'someone-else', 'PX', 60_000);
    sim.addVisit({ city: 'Must not be published' });
    await waitFor(() => !poller.status().sites[0]!.leader, 'the poller to notice');
    expect(watch.messages()).toHaveLength(1);
  });
});

describe('status', () => {
  it('reports leadership, timezone, seq and request counts', async () => {
    const { poller } = await startPoller();
    await waitFor(() => watch.messages(1).length === 1 && watch.messages(2).length === 1, 'both snapshots');
    const status = poller.status();
    expect(status).toMatchObject({ running: true, healthy: true, consecutiveFailures: 0, authBlocked: false });
    expect(status.published).toBe(2);
    expect(status.sites).toEqual([
      expect.objectContaining({ siteId: 1, leader: true, timezone: 'Europe/Paris', seq: snapshots(1)[0]!.seq }),
      expect.objectContaining({ siteId: 2, leader: true, timezone: 'Europe/Paris', seq: snapshots(2)[0]!.seq }),
    ]);
    await poller.stop();
    expect(poller.status()).toMatchObject({ running: false, healthy: false });
  });
});

describe('heartbeats: how fresh each led site is, whether or not its snapshot changed', () => {
  const heartbeatKey = (siteId: number) => redisNames(watch.prefix, siteId).heartbeatKey;
  /** The latest heartbeat of the site, once one satisfies `pass`. */
  const heartbeatWhere = (siteId: number, pass: (h: SiteHeartbeat) => boolean, what: string) =>
    waitFor(() => watch.heartbeats(siteId).findLast(pass), what);

  it('one per led site after each tick: no trouble, a small data age, FETCH_INTERVAL; stored for the stale threshold', async () => {
    const metrics = new PollerMetrics({ siteIds: [1, 2] });
    await startPoller({}, { metrics });
    await waitFor(() => watch.messages(1).length === 1 && watch.messages(2).length === 1, 'both snapshots');
    await waitFor(() => watch.heartbeats(1).length >= 3 && watch.heartbeats(2).length >= 3, 'heartbeats of both sites');
    for (const siteId of [1, 2]) {
      const heartbeat = watch.heartbeats(siteId).at(-1)!;
      expect(heartbeat).toEqual({ site: siteId, fetch_interval_ms: 100, data_age_ms: expect.any(Number), trouble: null });
      // FETCH_INTERVAL is 100 ms: the live visits were read a tick ago at most (generous for a loaded machine).
      expect(heartbeat.data_age_ms).toBeLessThan(2000);
      const ttl = await watch.command.pttl(heartbeatKey(siteId));
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(staleAfterMs(100));
    }
    // A quiet site: no new snapshot, the heartbeats go on.
    const before = watch.heartbeats(1).length;
    await moreRequests(3);
    await waitFor(() => watch.heartbeats(1).length >= before + 3, 'more heartbeats');
    expect(watch.messages(1)).toHaveLength(1);
    expect(await metrics.metrics()).toMatch(/^matomo_live_poller_heartbeats_total\{result="ok"\} [1-9]\d*$/m);
  });

  const troubles: Array<[string, SiteHeartbeat['trouble'], FaultInput]> = [
    ['refused connections', 'matomo_unreachable', { kind: 'refused', durationMs: 1500 }],
    ['HTTP 500', 'matomo_unreachable', { kind: 'http-5xx', status: 500, count: -1 }],
    ['a timeout', 'matomo_unreachable', { kind: 'timeout', count: -1 }],
    [
      "Matomo 5's answer with the Live plugin off",
      'live_disabled',
      {
        kind: 'sub-error',
        method: 'Live.getLastVisitsDetails',
        count: -1,
        message: 'The plugin Live is not enabled. You can activate the plugin on Settings > Plugins page in Matomo.',
      },
    ],
    ['an HTML login page', 'matomo_error', { kind: 'html-login', count: -1 }],
  ];

  it.each(troubles)('%s: %s until it works again, the data age growing', async (_what, trouble, fault) => {
    await startPoller({ MATOMO_SITE_IDS: '1', MATOMO_TIMEOUT: '300' });
    await heartbeatWhere(1, (h) => h.trouble === null, 'a heartbeat without trouble');
    sim.injectFault(fault);
    const first = await heartbeatWhere(1, (h) => h.trouble === trouble, `a heartbeat saying ${trouble}`);
    // Heartbeats keep coming on their timer (between ticks backing off), the data older each time.
    const later = await heartbeatWhere(1, (h) => h.trouble === trouble && h.data_age_ms! > first.data_age_ms! + 200, 'an older one');
    expect(later).toMatchObject({ site: 1, fetch_interval_ms: 100 });
    sim.clearFaults();
    const after = watch.heartbeats(1).length;
    await waitFor(
      () =>
        watch
          .heartbeats(1)
          .slice(after)
          .some((h) => h.trouble === null && h.data_age_ms! < 2000),
      'the recovery',
    );
  });

  it('a refused token: auth_refused, and heartbeats go on by the clock while the next attempt is 5 minutes away', async () => {
    // Timers of up to 50 ms run by themselves; the heartbeat period (100 ms) and the auth retry wait for advance().
    const clock = new ManualClock(Date.now(), 50);
    await sim.close();
    sim = await startMatomoSim({ token: SIM_TOKEN, siteIds: [1], now: clock.now });
    sim.injectFault({ kind: 'auth', count: -1 });
    const { poller } = await startPoller({ MATOMO_SITE_IDS: '1' }, { clock });
    await waitFor(() => poller.status().authBlocked, 'the auth block');
    // The one after the tick: auth refused, nothing ever read.
    await waitFor(() => watch.heartbeats().length === 1, 'the heartbeat after the tick');
    expect(watch.heartbeats()[0]).toEqual({ site: 1, fetch_interval_ms: 100, data_age_ms: null, trouble: 'auth_refused' });
    expect(clock.pendingDelays()).toEqual([100, 300_000]);
    for (let n = 2; n <= 4; n++) {
      clock.advance(100);
      await waitFor(() => watch.heartbeats().length === n && clock.pendingDelays()[0] === 100, `heartbeat ${n}`);
    }
    expect(watch.heartbeats().map((h) => h.trouble)).toEqual(Array(4).fill('auth_refused'));
    expect(sim.stats().requests).toBe(1);
    // The token works again: the next attempt (5 minutes after the first) publishes, the trouble goes.
    sim.clearFaults();
    clock.advance(300_000 - 300);
    await waitFor(() => watch.messages().length === 1, 'the snapshot once the token works');
    await heartbeatWhere(1, (h) => h.trouble === null && h.data_age_ms === 0, 'a heartbeat without trouble');
  });

  it('a standby sends none; the sites it leads, it does', async () => {
    await watch.command.set(redisNames(watch.prefix, 1).leaseKey, 'someone-else', 'PX', 60_000);
    const { poller } = await startPoller({ LEASE_TTL: '60000' }, { leased: true });
    await waitFor(() => watch.heartbeats(2).length >= 5, 'five heartbeats of site 2 (led)');
    expect(poller.status().sites.map((s) => [s.siteId, s.leader])).toEqual([
      [1, false],
      [2, true],
    ]);
    expect(watch.heartbeats(1)).toEqual([]);
    expect(await watch.command.exists(heartbeatKey(1))).toBe(0);
  });

  it('Redis down: ticks go on, one warning for the whole outage and one line when heartbeats go out again', async () => {
    const privateRedis = await spawnRedisServer();
    cleanups.push(() => privateRedis.stop());
    const { poller, log } = await startPoller({ MATOMO_SITE_IDS: '1' }, { redisUrl: privateRedis.url });
    const reader = pollerRedis(privateRedis.url);
    cleanups.push(() => reader.disconnect());
    const key = heartbeatKey(1);
    await waitFor(async () => reader.status === 'ready' && (await reader.exists(key)) === 1, 'a heartbeat in the private Redis');
    // (The poller may have started before its connection was ready: what it said then is not this outage.)
    const earlier = log.lines().length;
    const said = () =>
      log
        .lines()
        .slice(earlier)
        .filter((l) => String(l.msg).startsWith('heartbeat'));
    await privateRedis.stop();
    await waitFor(() => poller.status().lastError?.kind === 'publish', 'the publish failure');
    const requests = sim.stats().requests;
    await sim.waitForRequests(requests + 5);
    await privateRedis.start();
    await waitFor(() => said().length === 2, 'the line saying heartbeats work again', 20_000);
    expect(said().map((l) => [l.level, l.msg])).toEqual([
      [40, 'heartbeat not published (Redis unreachable?); retrying'],
      [30, 'heartbeats published again'],
    ]);
    expect(said()[1]!.failedRounds).toBeGreaterThan(1);
    await waitFor(async () => reader.status === 'ready' && (await reader.exists(key).catch(() => 0)) === 1, 'the heartbeat after', 20_000);
    expect(poller.status().running).toBe(true);
  });

  it('through the in-memory bus too (the single process)', async () => {
    const bus = new InMemorySnapshotBus();
    const heard: Buffer[] = [];
    await bus.watchHeartbeat(1, (bytes) => heard.push(bytes));
    await startPoller({ MATOMO_SITE_IDS: '1' }, { publisher: bus });
    await waitFor(() => heard.length >= 2, 'two heartbeats');
    expect(decodeHeartbeat(heard.at(-1)!)).toEqual({
      heartbeat: { site: 1, fetch_interval_ms: 100, data_age_ms: expect.any(Number), trouble: null },
    });
  });
});
