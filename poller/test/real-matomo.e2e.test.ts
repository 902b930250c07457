/**
 * The poller against a real Matomo 5 (../shared/tools/real-matomo, or
 * REAL_MATOMO_URL/REAL_MATOMO_TOKEN) and a real Redis, with its default
 * settings: both seeded sites, a third site created here in UTC+14, visits
 * tracked through matomo.php, totals compared with Matomo's own, and parts of
 * the bulk answer made to fail with bad parameters Matomo itself refuses,
 * and the incremental fetch (visit events) on a burst tracked at once.
 */
import { randomBytes } from 'node:crypto';
import { Agent, type Dispatcher } from 'undici';
import { decodeSnapshot, type Snapshot } from '@matomo-live/protocol';
import { formatLocalDateTime, loadPollerConfig, localDate, parseSiteTimezone, redisNames, startOfLocalDay } from '@matomo-live/shared';
import { capturedLogger } from '@matomo-live/test-support/logger';
import {
  describeWithRealMatomo,
  realMatomoPlan,
  REAL_MATOMO_START_TIMEOUT_MS,
  startRealMatomo,
  type RealMatomo,
  type TrackingHit,
} from '@matomo-live/test-support/real-matomo';
import { singleNode } from '@matomo-live/test-support/redis-ha';
import { createRedisPoller, type RedisPoller } from '../src/redis-wiring';
import { waitFor, watchRedis, type RedisWatch } from './support/harness';

// Real Matomo, real time: a test waits up to a minute for Matomo or the poller (beforeAll has its own, longer limit).
jest.setTimeout(180_000);

const plan = realMatomoPlan('poller');
const suite = describeWithRealMatomo(plan, 'the poller suite against a real Matomo 5');

/** Matomo's VisitsSummary.get row (format_metrics=0), or [] for a day without data. */
type MatomoDay = Record<string, number> | [];

let matomo: RealMatomo;
let farSiteId: number;
const pollers: RedisPoller[] = [];
const watches: RedisWatch[] = [];

suite('the poller against a real Matomo 5', () => {
  beforeAll(async () => {
    matomo = await startRealMatomo(plan as Exclude<typeof plan, { kind: 'skip' }>);
    // A site in UTC+14: its "today" is already tomorrow in UTC for ten hours a day.
    const added = (await matomo.api('SitesManager.addSite', {
      siteName: `matomo-live e2e Kiritimati ${randomBytes(2).toString('hex')}`,
      'urls[0]': 'https://kiritimati.example.com',
      timezone: 'Pacific/Kiritimati',
      currency: 'AUD',
    })) as { value?: unknown };
    if (!Number.isInteger(added.value)) throw new Error(`SitesManager.addSite answered ${JSON.stringify(added)}`);
    farSiteId = added.value as number;
  }, REAL_MATOMO_START_TIMEOUT_MS);

  afterAll(async () => {
    for (const p of pollers.splice(0)) {
      await p.poller.stop();
      await p.close();
    }
    for (const w of watches.splice(0)) await w.close();
    await matomo?.stop();
  }, 120_000);

  /** A poller with the production wiring (leases + atomic publisher) and default intervals, on a private Redis prefix. */
  async function startPoller(
    siteIds: number[],
    env: Record<string, string> = {},
    dispatcher?: Dispatcher,
  ): Promise<{ redisPoller: RedisPoller; watch: RedisWatch; log: ReturnType<typeof capturedLogger> }> {
    const watch = await watchRedis(siteIds);
    watches.push(watch);
    const config = loadPollerConfig(
      {
        MATOMO_URL: matomo.url,
        MATOMO_TOKEN: matomo.token,
        MATOMO_SITE_IDS: siteIds.join(','),
        REDIS_URL: watch.url,
        REDIS_PREFIX: watch.prefix,
        POLLER_HEALTH_PORT: '0',
        ...env,
      },
      { dotenv: false },
    );
    const log = capturedLogger('info');
    const redisPoller = createRedisPoller({ config, redis: singleNode(watch.url), logger: log.logger, dispatcher });
    pollers.push(redisPoller);
    await redisPoller.poller.start();
    return { redisPoller, watch, log };
  }

  const snapshotsOf = (watch: RedisWatch, siteId: number): Snapshot[] =>
    watch.messages(siteId).map((bytes) => {
      const decoded = decodeSnapshot(bytes);
      if ('error' in decoded) throw new Error(decoded.error);
      return decoded.snapshot;
    });

  /** A visit tracked now with its own IP (Matomo merges same-IP hits within 30 min), city and coordinates. */
  async function trackNow(idsite: number, city: string, extra: Partial<TrackingHit> = {}): Promise<number> {
    const cdt = Math.floor(Date.now() / 1000);
    const result = await matomo.track([
      {
        idsite,
        _id: randomBytes(8).toString('hex'),
        cdt,
        cip: `203.0.113.${1 + (randomBytes(1)[0]! % 250)}`,
        ua: `matomo-live-e2e/${randomBytes(4).toString('hex')}`,
        lat: 1.8721,
        long: -157.4278,
        city,
        country: 'ki',
        url: `https://e2e.example.com/${encodeURIComponent(city)}`,
        action_name: city,
        ...extra,
      },
    ]);
    expect(result).toEqual({ tracked: 1, invalid: 0 });
    return cdt;
  }

  const daySummaryOf = (day: MatomoDay) =>
    Array.isArray(day)
      ? { visits: 0, actions: 0, time_spent_seconds: 0, unique_visitors: 0, bounce_count: 0 }
      : {
          visits: day.nb_visits,
          actions: day.nb_actions,
          time_spent_seconds: day.sum_visit_length,
          unique_visitors: day.nb_uniq_visitors,
          bounce_count: day.bounce_count,
        };

  const expectReferenceShape = (snapshot: Snapshot) => {
    expect(Object.keys(snapshot).slice(0, 2)).toEqual(['visits_live', 'summary']);
    for (const day of ['today', 'yesterday', 'day_before'] as const) {
      expect(snapshot.summary[day]).toEqual(
        expect.objectContaining({ visits: expect.any(Number), time_spent: expect.stringMatching(/^\d\d+:\d\d:\d\d$/) }),
      );
    }
  };

  test("both seeded sites: their timezones, their latest visits, and yesterday's and the day before's totals equal Matomo's", async () => {
    const { watch } = await startPoller([1, 2]);
    await waitFor(() => watch.messages(1).length > 0 && watch.messages(2).length > 0, 'both sites published', 60_000);
    for (const [siteId, zoneName] of [
      [1, 'Asia/Tokyo'],
      [2, 'America/New_York'],
    ] as const) {
      const snapshot = snapshotsOf(watch, siteId).at(-1)!;
      const zone = parseSiteTimezone(zoneName);
      expectReferenceShape(snapshot);
      expect(snapshot).toMatchObject({ site: siteId, timezone: zoneName });
      const { yesterday, day_before: dayBefore } = snapshot.summary;
      const matomoDays = (await matomo.api('VisitsSummary.get', {
        idSite: siteId,
        period: 'day',
        date: `${dayBefore.date},${yesterday.date}`,
        format_metrics: 0,
      })) as Record<string, MatomoDay>;
      expect(yesterday).toMatchObject(daySummaryOf(matomoDays[yesterday.date]!));
      expect(dayBefore).toMatchObject(daySummaryOf(matomoDays[dayBefore.date]!));
      // The latest visits are Matomo's own (with coordinates), in its order, with site-local times.
      const live = (await matomo.api('Live.getLastVisitsDetails', {
        idSite: siteId,
        period: 'day',
        date: 'today',
        filter_limit: 5,
        doNotFetchActions: 1,
        showColumns: 'city,latitude,lastActionTimestamp',
      })) as Array<{ city: string | null; latitude: string | null; lastActionTimestamp: number }>;
      const located = live.filter((v) => v.latitude !== null);
      expect(snapshot.visits_live.map((v) => v.city)).toEqual(located.map((v) => v.city ?? ''));
      snapshot.visits_live.forEach((v, i) => {
        expect(v.lastActionDateTime).toBe(formatLocalDateTime(located[i]!.lastActionTimestamp * 1000, zone));
        expect(typeof v.latitude).toBe('number');
      });
    }
  });

  test('a visit tracked now on a new UTC+14 site is in Redis within two intervals, with its site-local time', async () => {
    const { redisPoller, watch } = await startPoller([farSiteId]);
    await waitFor(() => watch.messages(farSiteId).length > 0, 'the new site published', 60_000);
    const cdt = await trackNow(farSiteId, 'Kiritimati');
    const requestsBefore = redisPoller.poller.status().requests;
    const snapshot = await waitFor(
      () => snapshotsOf(watch, farSiteId).find((s) => s.visits_live.some((v) => v.city === 'Kiritimati')),
      'the tracked visit',
      60_000,
    );
    // Requests started after the hit was tracked: the one in flight may have missed it, the next must not.
    expect(redisPoller.poller.status().requests - requestsBefore).toBeLessThanOrEqual(2);
    const zone = parseSiteTimezone('Pacific/Kiritimati');
    expect(snapshot.timezone).toBe('Pacific/Kiritimati');
    expect(snapshot.visits_live[0]).toMatchObject({
      city: 'Kiritimati',
      countryCode: 'ki',
      latitude: 1.8721,
      longitude: -157.4278,
      visitIp: '',
      lastActionDateTime: formatLocalDateTime(cdt * 1000, zone),
      lastActionUtc: new Date(cdt * 1000).toISOString().replace('.000Z', 'Z'),
    });
    // The site's today is its own calendar day (often already tomorrow in UTC), and counts the visit.
    expect(snapshot.summary.today.date).toBe(localDate(cdt * 1000, zone));
    expect(snapshot.summary.today.visits).toBeGreaterThanOrEqual(1);
  });

  test("with default settings, today's visits include visits tracked a moment ago and are ≥ the 30-minute counters within 60 s", async () => {
    // Pick a site whose 30-minute window lies inside its today (not in the 30 minutes after its midnight).
    const minutesSinceMidnight = (zoneName: string) =>
      (Date.now() - startOfLocalDay(localDate(Date.now(), parseSiteTimezone(zoneName)), parseSiteTimezone(zoneName))) / 60_000;
    const [siteId, zoneName] = minutesSinceMidnight('Asia/Tokyo') >= 33 ? [1, 'Asia/Tokyo'] : [2, 'America/New_York'];
    const { watch } = await startPoller([siteId]);
    await waitFor(() => watch.messages(siteId).length > 0, 'the first snapshot', 60_000);
    const trackedAt = Date.now();
    await trackNow(siteId, `Today A ${randomBytes(2).toString('hex')}`);
    await trackNow(siteId, `Today B ${randomBytes(2).toString('hex')}`);
    // Matomo's own raw count of today's visits right after tracking, and its (cached) archive.
    const window = Math.ceil(minutesSinceMidnight(zoneName));
    const [raw] = (await matomo.api('Live.getCounters', { idSite: siteId, lastMinutes: window, showColumns: 'visits' })) as [
      { visits: number },
    ];
    const archive = (await matomo.api('VisitsSummary.get', {
      idSite: siteId,
      period: 'day',
      date: 'today',
      format_metrics: 0,
    })) as MatomoDay;
    const remaining = 60_000 - (Date.now() - trackedAt);
    const caughtUp = await waitFor(
      () => snapshotsOf(watch, siteId).find((s) => s.summary.today.visits >= raw.visits),
      `today's visits to reach Matomo's raw count ${raw.visits} (its archive says ${JSON.stringify(daySummaryOf(archive).visits)})`,
      Math.max(remaining, 1),
    );
    expect(caughtUp.summary.today.visits).toBeGreaterThanOrEqual(caughtUp.counters!.visits);
    for (const s of snapshotsOf(watch, siteId)) expect(s.summary.today.visits).toBeGreaterThanOrEqual(s.counters!.visits);
  });

  test('with the summary part, then the counters part refused by Matomo, a new visit is still published within two intervals', async () => {
    // The poller's own requests, rewritten on the way: Matomo refuses a bad date or lastMinutes=0 for that part only.
    let breaking: 'summary' | 'counters' | undefined;
    const dispatcher = new Agent().compose(
      (dispatch) => (options, handler) =>
        dispatch(
          breaking === undefined || typeof options.body !== 'string'
            ? options
            : {
                ...options,
                body:
                  breaking === 'summary'
                    ? options.body.replace('date%3Dlast3', 'date%3Dnotadate')
                    : options.body.replace(/lastMinutes%3D30(?=&|$)/, 'lastMinutes%3D0'),
              },
          handler,
        ),
    );
    const { redisPoller, watch, log } = await startPoller([1], { SUMMARY_INTERVAL: '1000' }, dispatcher);
    const poller = redisPoller.poller;
    await waitFor(() => watch.messages(1).length > 0, 'the first snapshot', 60_000);
    const first = snapshotsOf(watch, 1).at(-1)!;
    for (const [part, error] of [
      ['summary', /Date format must be/],
      ['counters', /lastMinutes only accepts values between 1 and 2880/],
    ] as const) {
      breaking = part;
      await waitFor(() => poller.status().sites[0]!.failingParts.some((p) => p.part === part), `the ${part} part to fail`, 30_000);
      const city = `Despite ${part} ${randomBytes(2).toString('hex')}`;
      await trackNow(1, city);
      const requestsBefore = poller.status().requests;
      const snapshot = await waitFor(
        () => snapshotsOf(watch, 1).find((s) => s.visits_live.some((v) => v.city === city)),
        `the visit despite the ${part} failure`,
        60_000,
      );
      expect(poller.status().requests - requestsBefore).toBeLessThanOrEqual(2);
      expectReferenceShape(snapshot);
      expect(snapshot.summary.yesterday).toEqual(first.summary.yesterday);
      const site = poller.status().sites[0]!;
      expect(site.failingParts).toEqual([expect.objectContaining({ part, error: expect.stringMatching(error) })]);
      expect(site[part === 'summary' ? 'summaryAgeSeconds' : 'countersAgeSeconds']).toEqual(expect.any(Number));
      expect(poller.status().healthy).toBe(true);
      breaking = undefined;
      await waitFor(() => poller.status().sites[0]!.failingParts.length === 0, `the ${part} part to work again`, 30_000);
    }
    expect(log.lines().filter((l) => String(l.msg).startsWith('part of the Matomo answer failed'))).toHaveLength(2);
  });

  test('a burst of 12 visits tracked at once becomes 12 visit events in order; a new action is an event again, a ping is not', async () => {
    // The far site: its own, so no visit of another test lands in the stream; one poller (the cursor starts 30 min back).
    const { redisPoller, watch } = await startPoller([farSiteId]);
    await waitFor(() => redisPoller.poller.status().sites[0]!.events.cursorAfter !== null, 'the cursor', 60_000);
    const names = redisNames(watch.prefix, farSiteId);
    const visitEvents = async () =>
      ((await watch.command.xrange(names.eventsKey, '-', '+')) as Array<[string, string[]]>)
        .map(([, fields]) => fields)
        .filter((fields) => fields[fields.indexOf('kind') + 1] === 'visit')
        .map((fields) => JSON.parse(fields[fields.indexOf('data') + 1]!) as { city: string; actions: number; idVisit: number });
    const tag = randomBytes(2).toString('hex');
    // Twelve visitors in one tracking request (Matomo's clock: no cdt, or they would be late hits no cursor sees),
    // each its own IP and user agent; they share a second or two, as a burst does.
    const hits = Array.from({ length: 12 }, (_, i) => ({
      idsite: farSiteId,
      _id: randomBytes(8).toString('hex'),
      cip: `198.51.100.${10 + i}`,
      ua: `matomo-live-e2e-burst/${tag}-${i}`,
      lat: 1.8721,
      long: -157.4278,
      city: `Burst ${tag} ${i + 1}`,
      country: 'ki',
      url: `https://e2e.example.com/burst/${i + 1}`,
      action_name: `burst ${i + 1}`,
    }));
    expect(await matomo.track(hits)).toEqual({ tracked: 12, invalid: 0 });
    const burst = await waitFor(
      async () => {
        const events = (await visitEvents()).filter((e) => e.city.startsWith(`Burst ${tag}`));
        return events.length >= 12 ? events : undefined;
      },
      '12 visit events',
      60_000,
    );
    // Oldest first (Matomo's asc order: last action time, then idVisit), each once.
    expect(burst.map((e) => e.city)).toEqual(hits.map((h) => h.city));
    expect(new Set(burst.map((e) => e.idVisit)).size).toBe(12);
    // The same visitor again: one more pageview is an update (same idVisit, 2 actions); a ping moves nothing.
    const again = { ...hits[4]!, url: 'https://e2e.example.com/burst/again', action_name: 'again' };
    expect(await matomo.track([{ ...hits[7]!, ping: 1 }, again])).toEqual({ tracked: 2, invalid: 0 });
    const updated = await waitFor(
      async () => (await visitEvents()).find((e) => e.city === again.city && e.actions === 2),
      'the update of visit 5',
      60_000,
    );
    expect(updated.idVisit).toBe(burst[4]!.idVisit);
    // One more tick: no event for the ping, nothing repeated.
    const requests = redisPoller.poller.status().requests;
    await waitFor(() => redisPoller.poller.status().requests >= requests + 2, 'two more ticks', 30_000);
    const mine = (await visitEvents()).filter((e) => e.city.startsWith(`Burst ${tag}`));
    expect(mine.map((e) => `${e.idVisit}:${e.actions}`)).toEqual([...burst.map((e) => `${e.idVisit}:1`), `${burst[4]!.idVisit}:2`]);
    // The snapshot follows the stream: its newest visit is the updated one.
    const latest = snapshotsOf(watch, farSiteId).at(-1)!;
    expectReferenceShape(latest);
    expect(latest.visits_live[0]).toMatchObject({ city: again.city, actions: 2 });
  });
});
