// The poller process's /metrics on its health port, against the simulator
// and the run's real Redis: a tick shows up as ticks, a publish and data
// ages; a token the simulator refuses raises the auth failure counter.
import { startMatomoSim, type MatomoSim } from '@matomo-live/matomo-sim';
import { freePort } from '@matomo-live/redis-ha';
import { redisScope, type RedisScope } from '@matomo-live/test-support/redis';
import { startPollerProcess, type PollerProcess } from '../src/poller-process';
import { SIM_TOKEN, waitFor } from './support/harness';

let sim: MatomoSim;
let redis: RedisScope;
let poller: PollerProcess;
let metricsUrl: string;

beforeAll(async () => {
  sim = await startMatomoSim({ token: SIM_TOKEN, siteIds: [1, 2], timezone: 'Europe/Paris' });
  sim.setSummary({ today: { nb_visits: 3, sum_visit_length: 125 }, yesterday: { nb_visits: 10, sum_visit_length: 3600 } });
  sim.addVisit({ siteId: 1, city: 'Bezons', latitude: 48.924, longitude: 2.213 });
  redis = await redisScope('poller-metrics');
  const port = await freePort();
  poller = await startPollerProcess({
    MATOMO_URL: sim.url,
    MATOMO_TOKEN: SIM_TOKEN,
    MATOMO_SITE_IDS: '1,2',
    REDIS_URL: redis.url,
    REDIS_PREFIX: redis.prefix,
    FETCH_INTERVAL: '200',
    LEASE_TTL: '3000',
    POLLER_HEALTH_PORT: String(port),
    LOG_LEVEL: 'silent',
  });
  metricsUrl = `http://127.0.0.1:${port}/metrics`;
});

afterAll(async () => {
  await poller?.shutdown();
  await sim?.close();
  await redis?.close();
});

/** One sample of the poller's current /metrics, or undefined when the series is absent. */
async function sample(series: string): Promise<number | undefined> {
  const text = await (await fetch(metricsUrl)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const authFailures = async () => (await sample('matomo_live_poller_matomo_failures_total{part="counters",kind="auth"}')) ?? NaN;

describe('poller /metrics (process, simulator, real Redis)', () => {
  it('serves Prometheus text with process metrics and every labelled counter at 0 from the start', async () => {
    const res = await fetch(metricsUrl);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toMatch(/^process_cpu_seconds_total \d/m);
    expect(text).toMatch(/^matomo_live_poller_matomo_failures_total\{part="today",kind="blocked"\} 0$/m);
    expect(text).toMatch(/^matomo_live_poller_snapshots_published_total\{site="2"\} \d+$/m);
  });

  it('after a tick: ticks, Redis up, leases, a publish per site and the data ages of the parts fetched', async () => {
    await waitFor(async () => ((await sample('matomo_live_poller_snapshots_published_total{site="1"}')) ?? 0) >= 1, 'a publish of site 1');
    await waitFor(async () => ((await sample('matomo_live_poller_snapshots_published_total{site="2"}')) ?? 0) >= 1, 'a publish of site 2');
    expect(await sample('matomo_live_poller_ticks_total')).toBeGreaterThanOrEqual(1);
    expect(await sample('matomo_live_poller_tick_duration_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(await sample('matomo_live_poller_matomo_request_duration_seconds_count{part="counters"}')).toBeGreaterThanOrEqual(2);
    expect(await sample('matomo_live_poller_redis_up')).toBe(1);
    expect(await sample('matomo_live_poller_sites_led')).toBe(2);
    expect(await sample('matomo_live_poller_lease_held{site="1"}')).toBe(1);
    const summaryAge = await sample('matomo_live_poller_data_age_seconds{site="1",part="summary"}');
    expect(summaryAge).toBeGreaterThanOrEqual(0);
    expect(summaryAge).toBeLessThan(60);
    expect(await sample('matomo_live_poller_data_age_seconds{site="2",part="counters"}')).toBeLessThan(60);
    // Unchanged content is not published again: the skipped ticks count.
    await waitFor(async () => ((await sample('matomo_live_poller_snapshots_unchanged_total{site="1"}')) ?? 0) >= 1, 'an unchanged tick');
    expect(await authFailures()).toBe(0);
  });

  it('a sub-request Matomo answers with an error counts against its part alone, as a bad answer', async () => {
    const series = 'matomo_live_poller_matomo_failures_total{part="counters",kind="bad_answer"}';
    const before = (await sample(series)) ?? NaN;
    const visitsBefore = (await sample('matomo_live_poller_matomo_failures_total{part="visits",kind="bad_answer"}')) ?? NaN;
    sim.injectFault({ kind: 'sub-error', method: 'Live.getCounters', siteId: 2, message: 'Mysql server has gone away' });
    await waitFor(async () => ((await sample(series)) ?? 0) > before, 'a counters failure in /metrics');
    expect(await sample(series)).toBe(before + 1);
    expect(await sample('matomo_live_poller_matomo_failures_total{part="visits",kind="bad_answer"}')).toBe(visitsBefore);
  });

  it('a token the simulator refuses raises the auth failure counter of every part the request carried', async () => {
    sim.injectFault({ kind: 'auth', count: -1 });
    await waitFor(async () => (await authFailures()) >= 1, 'an auth failure in /metrics');
    expect(await sample('matomo_live_poller_matomo_failures_total{part="counters",kind="blocked"}')).toBe(0);
    expect(poller.poller.status().authBlocked).toBe(true);
  });
});
