/**
 * What polling costs the user's Matomo, measured on a real Matomo 5 (PHP 8.2
 * built-in server + MariaDB, on this machine): this poller (node
 * poller/dist/main.js, defaults; also with TODAY_INTERVAL=0 and =1000 to price
 * live "today") against the reference loop (7 POSTs per tick), same interval,
 * same site, one at a time, windows interleaved over rounds. Per window:
 *
 * - PHP CPU: user+system time of the `php -S` process group (leader + workers);
 * - mariadbd CPU: its user+system time;
 * - SQL statements (`Questions`, the benchmark's own SHOW excluded), writes
 *   (INSERT/UPDATE/DELETE/REPLACE: archiving) and rows read (`Handler_read_*`,
 *   the best proxy for query work) from SHOW GLOBAL STATUS;
 * - HTTP requests and API calls, through a counting proxy in front of Matomo.
 *
 * CPU is sampled by the kernel in 10 ms ticks and PHP works a little after
 * answering, hence windows of a minute (each holds one SUMMARY_INTERVAL),
 * medians over rounds, and an idle window (nobody polls) subtracted in ratios.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { busySite } from './matomo-busy-site';
import { startCountingProxy } from '../common/counting-proxy';
import { startPoller } from '../common/matomo-stack';
import { cpuSeconds, groupCpuSeconds } from '../common/proc-stats';
import { startProcess, type StartedProcess } from '../processes';
import { median } from '../common/stats';
import { benchMatomo, type BenchMatomo } from '../real-matomo-instance';

export type CostScenario = 'idle' | 'matomo-live poller' | 'poller, TODAY_INTERVAL=0' | 'poller, TODAY_INTERVAL=1000' | 'reference loop';

export interface CostPlan {
  /** FETCH_INTERVAL of every poller, ms. */
  intervalMs: number;
  /** Measured seconds per window (after `warmupS`). */
  windowS: number;
  warmupS: number;
  /** Rounds on the small (seeded) site; the busy site gets `busyRounds`. */
  rounds: number;
  /** 0 = no busy-site measurement. */
  busyRounds: number;
  redisUrl: string;
  root: string;
  log: (line: string) => void;
}

export interface CostRow {
  site: 'seeded site' | 'busy site';
  scenario: CostScenario;
  rounds: number;
  requestsPerMin: number;
  apiCallsPerMin: number;
  phpCpuSPerMin: number;
  dbCpuSPerMin: number;
  sqlPerMin: number;
  writesPerMin: number;
  rowsReadPerMin: number;
}

export interface MatomoCostResult {
  matomoVersion?: string;
  /** Why nothing was measured (no real Matomo here), or why it failed. */
  skipped?: string;
  error?: string;
  intervalMs: number;
  windowS: number;
  siteNotes: Record<string, string>;
  rows: CostRow[];
}

const STATUS = [
  'Questions',
  'Com_insert',
  'Com_update',
  'Com_delete',
  'Com_replace',
  'Handler_read_first',
  'Handler_read_key',
  'Handler_read_next',
  'Handler_read_prev',
  'Handler_read_rnd',
  'Handler_read_rnd_next',
] as const;

interface Sample {
  at: number;
  php: number;
  db: number;
  status: Record<string, number>;
  requests: number;
  apiCalls: number;
}

export async function runMatomoCost(plan: CostPlan): Promise<MatomoCostResult> {
  const result: MatomoCostResult = { intervalMs: plan.intervalMs, windowS: plan.windowS, siteNotes: {}, rows: [] };
  let matomo: BenchMatomo | { skip: string };
  try {
    matomo = await benchMatomo(plan.log);
  } catch (error) {
    return { ...result, error: `could not start a real Matomo: ${(error as Error).message}` };
  }
  if ('skip' in matomo) {
    plan.log(`  Matomo cost: SKIPPED (${matomo.skip})`);
    return { ...result, skipped: matomo.skip };
  }
  const proxy = await startCountingProxy(matomo.url);
  try {
    result.matomoVersion = ((await matomo.api('API.getMatomoVersion')) as { value: string }).value;
    const [phpPid, dbPid] = readFileSync(matomo.pidFile, 'utf8').trim().split('\n').map(Number) as [number, number];
    const sample = (): Sample => {
      const counts = proxy.counts();
      return { at: Date.now(), php: groupCpuSeconds(phpPid), db: cpuSeconds(dbPid), status: dbStatus(matomo), ...counts };
    };
    const sites: Array<[CostRow['site'], number, number, CostScenario[]]> = [
      ['seeded site', 1, plan.rounds, ['idle', 'matomo-live poller', 'poller, TODAY_INTERVAL=0', 'reference loop']],
    ];
    if (plan.busyRounds > 0) {
      const id = await busySite(matomo, plan.log);
      sites.push([
        'busy site',
        id,
        plan.busyRounds,
        ['matomo-live poller', 'poller, TODAY_INTERVAL=0', 'poller, TODAY_INTERVAL=1000', 'reference loop'],
      ]);
    }
    for (const [site, siteId, rounds, scenarios] of sites) {
      result.siteNotes[site] = await describeSite(matomo, siteId);
      // Archive the days the pollers ask for before measuring: whoever asks first pays that, not the polling pattern.
      await matomo.api('VisitsSummary.get', { idSite: siteId, period: 'day', date: 'last3', format_metrics: 0 });
      const perScenario = new Map<CostScenario, CostRow[]>(scenarios.map((s) => [s, []]));
      for (let round = 1; round <= rounds; round++) {
        for (const scenario of scenarios) {
          const row = await measure(plan, matomo, proxy.url, siteId, site, scenario, sample);
          perScenario.get(scenario)!.push(row);
          plan.log(
            `  ${site} ${scenario} [round ${round}/${rounds}]: ${row.requestsPerMin.toFixed(0)} req/min, PHP ${row.phpCpuSPerMin.toFixed(2)} s/min, mariadbd ${row.dbCpuSPerMin.toFixed(2)} s/min, ${row.sqlPerMin.toFixed(0)} SQL/min`,
          );
        }
      }
      for (const rows of perScenario.values()) result.rows.push(medianRow(rows));
    }
  } catch (error) {
    plan.log(`  Matomo cost FAILED: ${(error as Error).message}`);
    result.error = (error as Error).message;
  } finally {
    await proxy.close();
    await matomo.stop();
  }
  return result;
}

async function measure(
  plan: CostPlan,
  matomo: BenchMatomo,
  proxyUrl: string,
  siteId: number,
  site: CostRow['site'],
  scenario: CostScenario,
  sample: () => Sample,
): Promise<CostRow> {
  let polling: StartedProcess | undefined;
  if (scenario === 'reference loop') {
    polling = startProcess(process.execPath, [join(plan.root, 'bench/dist/poller/reference-poller.js')], {
      env: {
        ...process.env,
        MATOMO_URL: proxyUrl,
        MATOMO_TOKEN: matomo.token,
        MATOMO_SITE_ID: String(siteId),
        FETCH_INTERVAL: String(plan.intervalMs),
      },
    });
  } else if (scenario !== 'idle') {
    const todayInterval = { 'matomo-live poller': undefined, 'poller, TODAY_INTERVAL=0': '0', 'poller, TODAY_INTERVAL=1000': '1000' }[
      scenario
    ];
    polling = startPoller(plan.root, {
      matomoUrl: proxyUrl,
      token: matomo.token,
      siteId,
      redisUrl: plan.redisUrl,
      prefix: `bench-cost-${Date.now()}:`,
      intervalMs: plan.intervalMs,
      extra: todayInterval === undefined ? {} : { TODAY_INTERVAL: todayInterval },
    });
  }
  try {
    await sleep(plan.warmupS * 1000);
    const begin = sample();
    await sleep(plan.windowS * 1000);
    const end = sample();
    if (polling && polling.child.exitCode !== null)
      throw new Error(`${scenario} exited with ${polling.child.exitCode}: ${polling.output()}`);
    const perMin = 60_000 / (end.at - begin.at);
    const status = (k: (typeof STATUS)[number]) => (end.status[k] ?? 0) - (begin.status[k] ?? 0);
    return {
      site,
      scenario,
      rounds: 1,
      requestsPerMin: (end.requests - begin.requests) * perMin,
      apiCallsPerMin: (end.apiCalls - begin.apiCalls) * perMin,
      phpCpuSPerMin: (end.php - begin.php) * perMin,
      dbCpuSPerMin: (end.db - begin.db) * perMin,
      // Each sample's own SHOW GLOBAL STATUS is a statement too.
      sqlPerMin: (status('Questions') - 1) * perMin,
      writesPerMin: (status('Com_insert') + status('Com_update') + status('Com_delete') + status('Com_replace')) * perMin,
      rowsReadPerMin: STATUS.filter((k) => k.startsWith('Handler_read')).reduce((n, k) => n + status(k), 0) * perMin,
    };
  } finally {
    await polling?.stop();
  }
}

function dbStatus(matomo: BenchMatomo): Record<string, number> {
  const rows = matomo.sql(`SHOW GLOBAL STATUS WHERE Variable_name IN (${STATUS.map((v) => `'${v}'`).join(', ')})`);
  return Object.fromEntries(
    rows
      .split('\n')
      .map((line) => line.split('\t'))
      .map(([k, v]) => [k!, Number(v)]),
  );
}

async function describeSite(matomo: BenchMatomo, siteId: number): Promise<string> {
  const site = (await matomo.api('SitesManager.getSiteFromId', { idSite: siteId })) as { timezone: string };
  const rows = Number(matomo.sql(`SELECT COUNT(*) FROM matomo_log_visit WHERE idsite = ${siteId}`));
  return `site ${siteId} (${site.timezone}), ${rows.toLocaleString('en-US')} visits in its raw log`;
}

function medianRow(rows: CostRow[]): CostRow {
  const first = rows[0]!;
  const m = (k: keyof CostRow) => median(rows.map((r) => r[k] as number));
  return {
    site: first.site,
    scenario: first.scenario,
    rounds: rows.length,
    requestsPerMin: m('requestsPerMin'),
    apiCallsPerMin: m('apiCallsPerMin'),
    phpCpuSPerMin: m('phpCpuSPerMin'),
    dbCpuSPerMin: m('dbCpuSPerMin'),
    sqlPerMin: m('sqlPerMin'),
    writesPerMin: m('writesPerMin'),
    rowsReadPerMin: m('rowsReadPerMin'),
  };
}
