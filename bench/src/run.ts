#!/usr/bin/env node
/**
 * `npm run bench`: fan-out (gateway, bare ws, Socket.IO), poller comparison, the load on a real Matomo,
 * end to end, Redis HA, visit events and storms, then docs/BENCHMARKS.md and bench/results/latest.json.
 * Options and environment: run-options.ts (`npm run bench -- --help`).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { runE2e, type E2eResult } from './e2e/e2e-bench';
import { runEventsBench, type EventsResult } from './events/events-bench';
import { runFanout, type FanoutResult, type ServerKind } from './fanout/fanout-bench';
import { runMatomoCost, type MatomoCostResult } from './matomo-cost/matomo-cost';
import { runPollerBench, type PollerResult } from './poller/poller-bench';
import { startRedisServer } from './processes';
import { redisHaUnavailable } from '@matomo-live/redis-ha';
import { runFailoverBench, runPublishCostBench } from './ha/redis-ha-bench';
import { runAcceptBench } from './storm/accept-bench';
import { runStorm, type StormResult, type StormServer } from './storm/storm-bench';
import { describeMachine } from './common/machine';
import { fanoutTable, fastPathTable } from './fanout/fanout-report';
import { redisHaSection, type HaResults } from './ha/ha-report';
import { matomoCostSection } from './matomo-cost/matomo-cost-report';
import { eventsSection } from './events/events-report';
import { BENCH_PARTS, renderMarkdown, type BenchPart, type BenchRun } from './report';
import { numberList, readRunOptions, USAGE, type RunOptions } from './run-options';

const ROOT = resolve(__dirname, '..', '..');

let args: RunOptions;
try {
  args = readRunOptions(process.argv.slice(2));
} catch (error) {
  console.error(`${(error as Error).message} (npm run bench -- --help)`);
  process.exit(1);
}
const { option, flag } = args;

function log(line: string): void {
  process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
}

function requireBuilt(paths: string[]): void {
  const missing = paths.filter((p) => !existsSync(join(ROOT, p)));
  if (missing.length) {
    console.error(`missing ${missing.join(', ')}: run \`npm run bench\`, which builds them`);
    process.exit(1);
  }
}

function writeReport(run: BenchRun): void {
  const analysisFile = join(ROOT, 'bench/ANALYSIS.md');
  const analysis = existsSync(analysisFile) ? readFileSync(analysisFile, 'utf8').trim() : '(none written)';
  const reportFile = join(ROOT, 'docs/BENCHMARKS.md');
  // Sections of parts this run did not measure keep their numbers.
  const previous = existsSync(reportFile) ? readFileSync(reportFile, 'utf8') : '';
  writeFileSync(reportFile, renderMarkdown(run, analysis, previous));
}

/** latest.json after a run of some parts: the parts it did not measure keep the previous run's results. */
function mergeWithLatest(run: BenchRun, latestFile: string): BenchRun {
  if (!existsSync(latestFile)) return run;
  const previous = JSON.parse(readFileSync(latestFile, 'utf8')) as BenchRun;
  const ran = new Set(run.parts);
  return {
    ...run,
    fanout: ran.has('fanout') ? run.fanout : previous.fanout,
    poller: ran.has('poller') ? run.poller : previous.poller,
    e2e: ran.has('e2e') ? run.e2e : previous.e2e,
    ha: ran.has('ha') ? run.ha : previous.ha,
    matomoCost: ran.has('matomo-cost') ? run.matomoCost : previous.matomoCost,
    events: ran.has('events') ? run.events : previous.events,
    storm: ran.has('storm') ? run.storm : previous.storm,
  };
}

async function main(): Promise<void> {
  if (flag('help')) {
    process.stdout.write(USAGE);
    return;
  }
  if (flag('render')) {
    // Re-renders docs/BENCHMARKS.md from the last run's numbers (after editing bench/ANALYSIS.md), without measuring again.
    writeReport(JSON.parse(readFileSync(join(ROOT, 'bench/results/latest.json'), 'utf8')) as BenchRun);
    log('wrote docs/BENCHMARKS.md from bench/results/latest.json');
    return;
  }
  const quick = flag('quick');
  const only = new Set((option('only') ?? BENCH_PARTS.join(',')).split(',') as BenchPart[]);
  const unknown = [...only].filter((part) => !BENCH_PARTS.includes(part));
  if (unknown.length > 0) {
    console.error(`--only: unknown part ${unknown.join(', ')} (parts: ${BENCH_PARTS.join(', ')})`);
    process.exit(1);
  }
  const servers = (option('servers') ?? 'gateway,ws,socketio').split(',') as ServerKind[];
  const sizes = numberList(option('sizes'), quick ? [200, 1000] : [1000, 5000, 10000]);
  const rates = numberList(option('rates'), [1, 10]);
  const durationS = Number(option('duration') ?? (quick ? 3 : 10));
  const started = Date.now();
  const needs = ['bench/dist/common/load-generator-main.js'];
  if (only.has('fanout') && servers.some((s) => s.startsWith('gateway'))) needs.push('gateway/dist/main.js');
  if (only.has('storm')) needs.push('bench/dist/storm/storm-fleet-main.js', 'gateway/dist/main.js', 'bench/dist/peers/socketio-server.js');
  if (only.has('poller') || only.has('e2e') || only.has('ha'))
    needs.push('tools/matomo-sim/dist/main.js', 'poller/dist/main.js', 'gateway/dist/main.js');
  if (only.has('matomo-cost')) needs.push('poller/dist/main.js', 'bench/dist/poller/reference-poller.js');
  if (only.has('events')) needs.push('gateway/dist/main.js');
  requireBuilt(needs);

  const redis = await startRedisServer();
  log(`private Redis at ${redis.url}`);
  const machine = describeMachine(ROOT);
  const settings: Record<string, string> = {
    payload: '2048 B',
    'updates/s': rates.join(' and '),
    'publishing per rate': `${durationS} s`,
    'idle wait': quick ? '1 s' : '3 s',
    'drain wait (max)': '5 s',
    'load-generator processes': '2',
  };
  const fanout: FanoutResult[] = [];
  let poller: PollerResult[] = [];
  let e2e: E2eResult | undefined;
  let matomoCost: MatomoCostResult | undefined;
  let ha: HaResults | undefined;
  let events: EventsResult | undefined;
  const storm: StormResult[] = [];
  try {
    if (only.has('fanout')) {
      for (const clients of sizes) {
        for (const server of servers) {
          log(`fan-out: ${server}, ${clients} clients`);
          fanout.push(
            ...(await runFanout(server, clients, {
              servers,
              sizes,
              rates,
              durationS,
              idleMs: quick ? 1000 : 3000,
              drainMs: 5000,
              loadGenerators: 2,
              payloadBytes: 2048,
              redisUrl: redis.url,
              root: ROOT,
              log,
            })),
          );
        }
      }
    }
    if (only.has('poller')) {
      const plan = { intervalMs: 1000, durationS: quick ? 12 : 62, warmupS: 3, visitEveryMs: 2000, redisUrl: redis.url, root: ROOT, log };
      settings['poller interval'] = `${plan.intervalMs} ms`;
      settings['poller visit every'] = `${plan.visitEveryMs} ms`;
      log(`poller: both pollers for ${plan.durationS} s`);
      poller = await runPollerBench(plan);
    }
    if (only.has('matomo-cost')) {
      const plan = {
        intervalMs: 1000,
        windowS: Number(option('matomo-window') ?? (quick ? 15 : 60)),
        warmupS: 3,
        rounds: Number(option('matomo-rounds') ?? (quick ? 1 : 2)),
        busyRounds: Number(option('matomo-busy-rounds') ?? (quick ? 0 : 1)),
        redisUrl: redis.url,
        root: ROOT,
        log,
      };
      log(
        `Matomo cost: real Matomo 5, ${plan.windowS} s windows, ${plan.rounds} round(s) on the seeded site, ${plan.busyRounds} on the busy site`,
      );
      matomoCost = await runMatomoCost(plan);
    }
    if (only.has('e2e')) {
      const plan = {
        gateways: 3,
        clients: quick ? 100 : 500,
        changes: quick ? 5 : 15,
        changeEveryMs: 1500,
        pollIntervalMs: 500,
        redisUrl: redis.url,
        root: ROOT,
        log,
      };
      settings['e2e poll interval'] = `${plan.pollIntervalMs} ms`;
      log(`e2e: ${plan.clients} clients, NGINX, ${plan.gateways} gateways`);
      e2e = await runE2e(plan);
    }
    if (only.has('ha')) {
      const unavailable = redisHaUnavailable();
      const failoverPlan = { rounds: quick ? 1 : 3, clients: quick ? 100 : 400, gateways: 2, root: ROOT, log };
      const changes = quick ? 200 : 1000;
      settings['HA failover rounds'] = String(failoverPlan.rounds);
      if (unavailable) {
        log(`Redis HA: skipped, ${unavailable}`);
        ha = {
          failover: (['sentinel', 'cluster'] as const).map((mode) => ({
            mode,
            topology: '',
            gateways: 2,
            clients: 0,
            rounds: [],
            error: `skipped: ${unavailable}`,
          })),
          publishCost: [],
        };
      } else {
        log(
          `Redis HA: Sentinel failover, ${failoverPlan.rounds} round(s), ${failoverPlan.clients} clients on ${failoverPlan.gateways} gateways`,
        );
        const sentinel = await runFailoverBench('sentinel', failoverPlan);
        log(`Redis HA: Cluster failover, ${failoverPlan.rounds} round(s)`);
        const cluster = await runFailoverBench('cluster', failoverPlan);
        log(`Redis HA: PUBLISH vs SPUBLISH on a 6-node cluster, 3 gateways, ${changes} changes`);
        const publishCost = await runPublishCostBench({ changes, subscribers: 3, log });
        ha = { failover: [sentinel, cluster], publishCost };
      }
    }
    if (only.has('events')) {
      const plan = {
        sizes: numberList(option('event-sizes'), quick ? [100] : [100, 1000]),
        rates: numberList(option('event-rates'), quick ? [20, 200] : [20, 200, 1000]),
        durationS: quick ? 3 : 10,
        drainMs: 10_000,
        redisUrl: redis.url,
        root: ROOT,
        log,
      };
      settings['events per rate'] = `${plan.durationS} s`;
      log(`visit events: ${plan.sizes.join(', ')} clients at ${plan.rates.join(', ')} events/s`);
      events = await runEventsBench(plan);
    }
    if (only.has('storm')) {
      const clients = Number(option('storm-clients') ?? (quick ? 600 : 6000));
      settings['storm clients'] = String(clients);
      for (const server of (option('storm-servers') ?? 'gateway,socketio').split(',') as StormServer[]) {
        const accept = server === 'gateway' ? await runAcceptBench({ clients, redisUrl: redis.url, root: ROOT, log }) : undefined;
        log(`storm: ${server}, ${clients} clients through the shipped NGINX config to 3 backends`);
        storm.push({
          accept,
          ...(await runStorm({
            server,
            clients,
            loadGenerators: 3,
            redisUrl: redis.url,
            root: ROOT,
            siteFile: option('storm-site'),
            log,
          })),
        });
      }
    }
  } finally {
    await redis.process.stop();
  }
  const run: BenchRun = {
    startedAt: new Date(started).toISOString(),
    minutes: (Date.now() - started) / 60_000,
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    quick,
    machine,
    settings,
    parts: [...only],
    fanout,
    poller,
    e2e,
    ha,
    matomoCost,
    events,
    storm: only.has('storm') ? storm : undefined,
    notes: [
      `The load generators (2 processes), Redis, the publisher and the server under test share the ${machine.cores} cores: a server that uses a whole core leaves the rest to the clients, so delivered msg/s at the largest sizes is a property of the whole box, not of the server alone. CPU per 1k deliveries is the fairer comparison.`,
      `Load average at the end: ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')} (at the start: ${machine.loadAverageAtStart}); anything above ~2 means other work competed for the 2 cores.`,
      'Latency is measured to every client, and a load-generator process handles its clients one after another: with thousands of clients per process, p50/p99 include the load generator working through its share of the burst. "first-client p50" (the first client to receive each message) shows the publish→server→socket path alone.',
      process.env.BENCH_NOTE ?? '',
    ].filter((n) => n !== ''),
  };
  if (flag('no-write')) return;
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  if (quick && !flag('write-docs')) {
    // Smoke-sized numbers must not replace the full run's report (nor the latest.json --render uses).
    writeFileSync(join(ROOT, 'bench/results/quick.json'), `${JSON.stringify(run, null, 2)}\n`);
    const fanoutTables = only.has('fanout') ? `\n${fanoutTable(run.fanout)}\n\n${fastPathTable(run.fanout)}\n\n` : '\n';
    process.stdout.write(
      `${fanoutTables}${ha ? `${redisHaSection(ha)}\n\n` : ''}${matomoCost ? `${matomoCostSection(run.matomoCost)}\n\n` : ''}${events ? `${eventsSection(events)}\n\n` : ''}`,
    );
    log('quick run: wrote bench/results/quick.json; docs/BENCHMARKS.md is left to full runs (--write-docs to overwrite it anyway)');
    return;
  }
  const latestFile = join(ROOT, 'bench/results/latest.json');
  writeFileSync(latestFile, `${JSON.stringify(mergeWithLatest(run, latestFile), null, 2)}\n`);
  writeReport(run);
  log(`wrote docs/BENCHMARKS.md and bench/results/latest.json (${run.minutes.toFixed(1)} min)`);
}

main().then(
  () => process.exit(0),
  (error: Error) => {
    console.error(error.stack ?? error.message);
    process.exit(1);
  },
);
