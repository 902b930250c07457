import {
  FAILURE_KINDS,
  LINT_FAILING_DEFAULTS,
  PARTS,
  PollerMetrics,
  cursorLagMs,
  failureKindLabel,
  partStreaks,
  type PollerView,
} from '../src/poller-metrics';
import { createSiteState, type SiteState } from '../src/site-state';
import { ManualClock } from './support/harness';

const START = Date.UTC(2024, 6, 4, 16, 0, 0);

/** The value of one sample (`name{labels}` exactly as prom-client writes it), or undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** Every series of a metric name in the text. */
function seriesOf(text: string, name: string): string[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .map((l) => l.slice(0, l.lastIndexOf(' ')));
}

let clock: ManualClock;
let sites: Map<number, SiteState>;
let view: PollerView;
let metrics: PollerMetrics;

beforeEach(() => {
  clock = new ManualClock(START);
  sites = new Map([
    [1, createSiteState(10, true)],
    [7, createSiteState(10, true)],
  ]);
  view = { sites, eventsEnabled: true, matomoOffsetMs: 0 };
  metrics = new PollerMetrics({ siteIds: [1, 7], clock });
  metrics.watch(() => view);
});

describe('PollerMetrics', () => {
  it('exports every labelled counter at 0 for its known label values from the start', async () => {
    const text = await metrics.metrics();
    for (const part of PARTS) {
      for (const kind of FAILURE_KINDS)
        expect([part, kind, sample(text, `matomo_live_poller_matomo_failures_total{part="${part}",kind="${kind}"}`)]).toEqual([
          part,
          kind,
          0,
        ]);
      expect(sample(text, `matomo_live_poller_matomo_request_duration_seconds_count{part="${part}"}`)).toBe(0);
    }
    for (const site of ['1', '7']) {
      expect(sample(text, `matomo_live_poller_snapshots_published_total{site="${site}"}`)).toBe(0);
      expect(sample(text, `matomo_live_poller_snapshots_unchanged_total{site="${site}"}`)).toBe(0);
      expect(sample(text, `matomo_live_poller_events_written_total{site="${site}"}`)).toBe(0);
      expect(sample(text, `matomo_live_poller_lease_held{site="${site}"}`)).toBe(0);
    }
    expect(sample(text, 'matomo_live_poller_ticks_total')).toBe(0);
    expect(sample(text, 'matomo_live_poller_sites_led')).toBe(0);
    expect(sample(text, 'matomo_live_poller_redis_up')).toBe(0);
    expect(sample(text, 'matomo_live_poller_heartbeats_total{result="ok"}')).toBe(0);
    expect(sample(text, 'matomo_live_poller_heartbeats_total{result="error"}')).toBe(0);
    expect(seriesOf(text, 'matomo_live_poller_data_age_seconds')).toEqual([]);
    expect(seriesOf(text, 'matomo_live_poller_cursor_lag_seconds')).toEqual([]);
  });

  it('data ages and leases follow the sites: led sites only, parts that succeeded only, gone with the lease', async () => {
    const led = sites.get(1)!;
    led.leaderUntil = START + 10_000;
    led.summary.succeed({} as never, START - 30_000);
    led.counters.succeed({} as never, START - 1_500);
    const standby = sites.get(7)!;
    standby.summary.succeed({} as never, START - 5_000);
    clock.advance(500);
    let text = await metrics.metrics();
    expect(sample(text, 'matomo_live_poller_data_age_seconds{site="1",part="summary"}')).toBe(30.5);
    expect(sample(text, 'matomo_live_poller_data_age_seconds{site="1",part="counters"}')).toBe(2);
    expect(seriesOf(text, 'matomo_live_poller_data_age_seconds')).toHaveLength(2);
    expect(sample(text, 'matomo_live_poller_lease_held{site="1"}')).toBe(1);
    expect(sample(text, 'matomo_live_poller_lease_held{site="7"}')).toBe(0);
    expect(sample(text, 'matomo_live_poller_sites_led')).toBe(1);

    clock.advance(10_000); // the lease runs out
    text = await metrics.metrics();
    expect(seriesOf(text, 'matomo_live_poller_data_age_seconds')).toEqual([]);
    expect(sample(text, 'matomo_live_poller_lease_held{site="1"}')).toBe(0);
    expect(sample(text, 'matomo_live_poller_sites_led')).toBe(0);
  });

  it('times every request once per part it carried, and counts a failed request against each of them by kind', async () => {
    const slots = [
      { siteId: 1, parts: { visits: 0, counters: 1 } },
      { siteId: 7, parts: { counters: 2, summary: 3 } },
    ];
    metrics.matomoRequest(slots, 0.2);
    metrics.matomoRequest(slots, 3, 'auth-blocked');
    const text = await metrics.metrics();
    expect(sample(text, 'matomo_live_poller_matomo_request_duration_seconds_count{part="counters"}')).toBe(4);
    expect(sample(text, 'matomo_live_poller_matomo_request_duration_seconds_count{part="visits"}')).toBe(2);
    expect(sample(text, 'matomo_live_poller_matomo_request_duration_seconds_sum{part="summary"}')).toBeCloseTo(3.2);
    expect(sample(text, 'matomo_live_poller_matomo_request_duration_seconds_bucket{le="0.25",part="visits"}')).toBe(1);
    expect(sample(text, 'matomo_live_poller_matomo_failures_total{part="counters",kind="blocked"}')).toBe(2);
    expect(sample(text, 'matomo_live_poller_matomo_failures_total{part="visits",kind="blocked"}')).toBe(1);
    expect(sample(text, 'matomo_live_poller_matomo_failures_total{part="site",kind="blocked"}')).toBe(0);
    expect(sample(text, 'matomo_live_poller_matomo_failures_total{part="counters",kind="auth"}')).toBe(0);
  });

  it("counts the parts that failed while a site's answer was read, with their kind, and no others", async () => {
    const state = sites.get(1)!;
    state.summary.fail('archiving lock', 'api-error', START); // an older streak, not this answer's
    const before = partStreaks(state);
    state.summary.fail('still locked', 'api-error', START + 100);
    state.visits.fail('HTTP 502', 'http', START + 100);
    state.counters.succeed({} as never, START + 100);
    metrics.partsRead(before, state);
    const text = await metrics.metrics();
    expect(sample(text, 'matomo_live_poller_matomo_failures_total{part="summary",kind="bad_answer"}')).toBe(1);
    expect(sample(text, 'matomo_live_poller_matomo_failures_total{part="visits",kind="http"}')).toBe(1);
    const failed = seriesOf(text, 'matomo_live_poller_matomo_failures_total').filter((s) => sample(text, s) !== 0);
    expect(failed.sort()).toEqual([
      'matomo_live_poller_matomo_failures_total{part="summary",kind="bad_answer"}',
      'matomo_live_poller_matomo_failures_total{part="visits",kind="http"}',
    ]);
  });

  it('counts ticks, tick times and publishes per site', async () => {
    metrics.tickStarted();
    metrics.tickStarted();
    metrics.tickDone(0.04);
    metrics.siteOutcome(7, 'published');
    metrics.siteOutcome(7, 'unchanged');
    metrics.siteOutcome(7, 'unchanged');
    metrics.siteOutcome(1, 'not-leader');
    const text = await metrics.metrics();
    expect(sample(text, 'matomo_live_poller_ticks_total')).toBe(2);
    expect(sample(text, 'matomo_live_poller_tick_duration_seconds_bucket{le="0.025"}')).toBe(0);
    expect(sample(text, 'matomo_live_poller_tick_duration_seconds_bucket{le="0.05"}')).toBe(1);
    expect(sample(text, 'matomo_live_poller_snapshots_published_total{site="7"}')).toBe(1);
    expect(sample(text, 'matomo_live_poller_snapshots_unchanged_total{site="7"}')).toBe(2);
    expect(sample(text, 'matomo_live_poller_snapshots_published_total{site="1"}')).toBe(0);
    expect(sample(text, 'matomo_live_poller_snapshots_unchanged_total{site="1"}')).toBe(0);
  });

  it('counts heartbeats published and not', async () => {
    metrics.heartbeatPublished('ok');
    metrics.heartbeatPublished('ok');
    metrics.heartbeatPublished('error');
    const text = await metrics.metrics();
    expect(sample(text, 'matomo_live_poller_heartbeats_total{result="ok"}')).toBe(2);
    expect(sample(text, 'matomo_live_poller_heartbeats_total{result="error"}')).toBe(1);
  });

  it('adds the events the poller wrote since the last scrape, led or not, and never goes down', async () => {
    sites.get(1)!.eventCounts.visits = 3;
    expect(sample(await metrics.metrics(), 'matomo_live_poller_events_written_total{site="1"}')).toBe(3);
    sites.get(1)!.eventCounts.visits = 5;
    const text = await metrics.metrics();
    expect(sample(text, 'matomo_live_poller_events_written_total{site="1"}')).toBe(5);
    expect(sample(text, 'matomo_live_poller_events_written_total{site="7"}')).toBe(0);
  });

  it('exports the cursor lag of led sites with events on: since the last query, or behind it while catching up', async () => {
    const state = sites.get(1)!;
    state.leaderUntil = START + 60_000;
    let text = await metrics.metrics();
    expect(seriesOf(text, 'matomo_live_poller_cursor_lag_seconds')).toEqual([]);
    state.cursor.succeed(true, START);
    clock.advance(2_000);
    text = await metrics.metrics();
    expect(sample(text, 'matomo_live_poller_cursor_lag_seconds{site="1"}')).toBe(2);
    state.catchingUp = true;
    state.cursorState = { after: START / 1000 - 300, offset: 0, seen: new Map(), version: 1 };
    text = await metrics.metrics();
    expect(sample(text, 'matomo_live_poller_cursor_lag_seconds{site="1"}')).toBe(302);
    view = { ...view, eventsEnabled: false };
    expect(seriesOf(await metrics.metrics(), 'matomo_live_poller_cursor_lag_seconds')).toEqual([]);
  });

  it('redis_up follows the last Redis command through the tracked objects', async () => {
    let fail = false;
    const target = {
      owner: 'poller-a',
      acquire: (siteId: number) => (fail ? Promise.reject(new Error('ECONNREFUSED')) : Promise.resolve(siteId === 1)),
    };
    const tracked = metrics.trackRedis(target);
    expect(tracked.owner).toBe('poller-a');
    expect(await tracked.acquire(1)).toBe(true);
    expect(sample(await metrics.metrics(), 'matomo_live_poller_redis_up')).toBe(1);
    fail = true;
    await expect(tracked.acquire(1)).rejects.toThrow('ECONNREFUSED');
    expect(sample(await metrics.metrics(), 'matomo_live_poller_redis_up')).toBe(0);
  });
});

describe('process metrics', () => {
  it('keeps the process metrics and leaves out the default gauges promtool rejects (named *_total)', async () => {
    const text = await new PollerMetrics({ siteIds: [1], defaultMetrics: true }).metrics();
    expect(text).toMatch(/^process_cpu_seconds_total /m);
    for (const name of LINT_FAILING_DEFAULTS) expect(text).not.toContain(`${name} `);
  });
});

describe('failureKindLabel', () => {
  it("folds Matomo's failure kinds into the label values of the spec", () => {
    expect(
      ['timeout', 'network', 'http', 'auth', 'auth-blocked', 'not-json', 'invalid-json', 'api-error', 'shape', 'internal'].map(
        failureKindLabel,
      ),
    ).toEqual(['timeout', 'network', 'http', 'auth', 'blocked', 'bad_answer', 'bad_answer', 'bad_answer', 'bad_answer', 'bad_answer']);
  });
});

describe('cursorLagMs', () => {
  it('is undefined before the first incremental fetch and never negative', () => {
    const state = createSiteState(10, false);
    expect(cursorLagMs(state, START, 0)).toBeUndefined();
    state.cursor.succeed(true, START + 1_000);
    expect(cursorLagMs(state, START, 0)).toBe(0);
  });
});
