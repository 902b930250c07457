/**
 * The storm benchmark (issue 14): N reconnecting clients through the shipped
 * NGINX config (storm-nginx.ts) to three backends — matomo-live gateways with
 * the shipped client, or Socket.IO servers (+ redis adapter) with
 * socket.io-client's own reconnection — through three steps:
 *
 * 1. scale-out 2 → 3: the third backend starts (its port was in the upstream
 *    all along, refusing); how soon does it hold a fair share?
 * 2. SIGKILL of one backend, once the fleet has settled: time until its
 *    clients are live again; the killed one is then started again;
 * 3. a rolling restart: each backend in turn SIGTERMed (drain), started again.
 *
 * After each step a change is published and every client must get it.
 * Reported: time-to-live p50/p99/max (from the step's start to each affected
 * client's last `live`), failed attempts, 1013s, missed changes, duplicate
 * changes, server closes in 4000–4899, and the connection split.
 */
import { join } from 'node:path';
import type { AcceptResult } from './accept-bench';
import { IpcChild } from '../common/load-generator-pool';
import { freePort, startProcess } from '../processes';
import { percentile } from '../common/stats';
import { StormFleet, type FleetKind, type FleetOptions, type SeqReport, type StepReport } from './storm-fleet';
import type { StormFleetRequest } from './storm-fleet-main';
import { startShippedNginx, type ShippedNginx } from './storm-nginx';
import { backend, changePublisher, STORM_TOKEN } from './storm-backends';

export type StormServer = 'gateway' | 'socketio';

export interface StormPlan {
  server: StormServer;
  clients: number;
  /** Load-generator child processes; 0 = the clients run in this process (the CI-sized test). */
  loadGenerators: number;
  redisUrl: string;
  root: string;
  /** Gateway DRAIN_WINDOW, ms. Default 5000. */
  drainWindowMs?: number;
  /** Extra gateway environment (e.g. REBALANCE=off). */
  gatewayEnv?: Record<string, string>;
  /** A site file other than deploy/nginx/matomo-live.conf (before/after runs). */
  siteFile?: string;
  /** How long scale-out may take to reach a fair share before the next step, ms. Default 60000. */
  scaleOutWindowMs?: number;
  /** The bound of every other wait (all clients live, a change everywhere), ms. Default 60000. */
  waitMs?: number;
  /** End the scale-out step as soon as the fleet has settled instead of after the whole window (the test). Default false. */
  untilSettled?: boolean;
  /** Redis key prefix. Default "bench-storm:". */
  prefix?: string;
  log: (line: string) => void;
}

export interface TimeToLive {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface StormStep {
  name: string;
  /** Clients that lost their connection in this step, and how many of them were live again at its end. */
  affected: number;
  backLive: number;
  /** Step start → each affected client's last `live`. */
  timeToLive: TimeToLive;
  /** Each affected client's own longest outage in the step (for a moved client: close → live elsewhere). */
  outage: TimeToLive;
  failedAttempts: number;
  closes1013: number;
  /** Server closes in 4000–4899 other than 4005 (must be none). */
  badCloses: number;
  closes: Record<string, number>;
  /** Clients that got the same change twice (client API), and the same seq twice on one connection (wire). */
  duplicates: number;
  wireRepeats: number;
  /** The change published after the step: clients that got it within 5 s, of all; the last one after ms. */
  change: { reachedWithin5s: number; reached: number; clients: number; lastAfterMs: number };
  /** Connections per backend at the end of the step. */
  split: number[];
  /** Scale-out only: the new backend's share after the window, and when it first held ≥ 25 %. */
  newShare?: number;
  timeTo25PercentMs?: number;
}

export interface StormResult {
  server: StormServer;
  /** The admission ceiling measured before the storm (gateway runs only). */
  accept?: AcceptResult[];
  clients: number;
  connected: number;
  drainWindowMs: number;
  steps: StormStep[];
  error?: string;
}

const PREFIX = 'bench-storm:';

/** Clients wherever they run: in this process or spread over load-generator children. */
interface Fleet {
  start(options: FleetOptions): Promise<void>;
  report(since: number): Promise<StepReport>;
  seq(seq: number, publishedAt: number, withinMs: number): Promise<SeqReport>;
  live(): Promise<number>;
  close(): Promise<void>;
}

function inProcessFleet(): Fleet {
  let fleet: StormFleet | undefined;
  return {
    async start(options) {
      fleet = new StormFleet(options);
      await fleet.start();
    },
    report: async (since) => fleet!.report(since),
    seq: async (seq, at, within) => fleet!.seqReport(seq, at, within),
    live: async () => fleet?.liveCount() ?? 0,
    async close() {
      fleet?.close();
    },
  };
}

function childFleet(processes: number): Fleet {
  const main = join(__dirname, 'storm-fleet-main.js');
  const children = Array.from(
    { length: processes },
    () => new IpcChild<StormFleetRequest>(startProcess(process.execPath, [main], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] })),
  );
  const all = <T>(body: Parameters<IpcChild<StormFleetRequest>['request']>[0]) => Promise.all(children.map((c) => c.request<T>(body)));
  return {
    async start(options) {
      await Promise.all(
        children.map((c, i) =>
          c.request({
            op: 'start',
            options: { ...options, count: Math.floor(options.count / processes) + (i < options.count % processes ? 1 : 0) },
          }),
        ),
      );
    },
    async report(since) {
      const parts = await all<StepReport>({ op: 'report', since });
      const closes: Record<string, number> = {};
      for (const p of parts) for (const [code, n] of Object.entries(p.closes)) closes[code] = (closes[code] ?? 0) + n;
      const sum = (pick: (r: StepReport) => number) => parts.reduce((s, r) => s + pick(r), 0);
      return {
        clients: sum((r) => r.clients),
        affected: sum((r) => r.affected),
        backLive: sum((r) => r.backLive),
        timesToLiveMs: parts.flatMap((r) => r.timesToLiveMs),
        outagesMs: parts.flatMap((r) => r.outagesMs),
        failedAttempts: sum((r) => r.failedAttempts),
        closes,
        down: sum((r) => r.down),
        duplicates: sum((r) => r.duplicates),
        wireRepeats: sum((r) => r.wireRepeats),
      };
    },
    async seq(seq, publishedAt, withinMs) {
      const parts = await all<SeqReport>({ op: 'seq', seq, publishedAt, withinMs });
      return {
        clients: parts.reduce((s, r) => s + r.clients, 0),
        reached: parts.reduce((s, r) => s + r.reached, 0),
        reachedWithin: parts.reduce((s, r) => s + r.reachedWithin, 0),
        lastAfterMs: Math.max(...parts.map((r) => r.lastAfterMs)),
        withinMs,
      };
    },
    live: async () => (await all<number>({ op: 'live' })).reduce((a, b) => a + b, 0),
    async close() {
      await Promise.allSettled(children.map((c) => c.request({ op: 'close' })));
      await Promise.all(children.map((c) => c.process.stop()));
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function runStorm(plan: StormPlan): Promise<StormResult> {
  const drainWindowMs = plan.drainWindowMs ?? 5000;
  const waitMs = plan.waitMs ?? 60_000;
  const result: StormResult = { server: plan.server, clients: plan.clients, connected: 0, drainWindowMs, steps: [] };
  const prefix = plan.prefix ?? PREFIX;
  const ports = [await freePort(), await freePort(), await freePort()];
  const backends = ports.map((port) => backend(plan, port, prefix));
  const fleet = plan.loadGenerators > 0 ? childFleet(plan.loadGenerators) : inProcessFleet();
  const publisher = changePublisher(plan, prefix);
  let nginx: ShippedNginx | undefined;
  let seq = Date.now() * 10;
  const log = plan.log;
  const split = () => Promise.all(backends.map((b) => b.connections()));

  /** Waits up to `ms` for every client to be live again. */
  const allLive = async (ms: number) => {
    const deadline = Date.now() + ms;
    while ((await fleet.live()) < plan.clients && Date.now() < deadline) await sleep(50);
  };

  /** Publishes a change and gives every client up to 10 s to get it; reports who had it within 5 s. */
  const change = async (): Promise<StormStep['change']> => {
    seq += 10;
    const publishedAt = Date.now();
    await publisher.publish(seq);
    const deadline = publishedAt + 10_000;
    let report = await fleet.seq(seq, publishedAt, 5000);
    while (report.reached < report.clients && Date.now() < deadline) {
      await sleep(100);
      report = await fleet.seq(seq, publishedAt, 5000);
    }
    return { reachedWithin5s: report.reachedWithin, reached: report.reached, clients: report.clients, lastAfterMs: report.lastAfterMs };
  };

  const step = async (name: string, since: number, extra: Partial<StormStep> = {}): Promise<StormStep> => {
    const report = await fleet.report(since);
    const changeReport = await change();
    const closes = report.closes;
    const measured: StormStep = {
      name,
      affected: report.affected,
      backLive: report.backLive,
      timeToLive: {
        p50Ms: percentile(report.timesToLiveMs, 0.5),
        p99Ms: percentile(report.timesToLiveMs, 0.99),
        maxMs: report.timesToLiveMs.length ? Math.max(...report.timesToLiveMs) : Number.NaN,
      },
      outage: {
        p50Ms: percentile(report.outagesMs, 0.5),
        p99Ms: percentile(report.outagesMs, 0.99),
        maxMs: report.outagesMs.length ? Math.max(...report.outagesMs) : Number.NaN,
      },
      failedAttempts: report.failedAttempts,
      closes1013: closes['1013'] ?? 0,
      badCloses: Object.entries(closes)
        .filter(([code]) => Number(code) >= 4000 && Number(code) <= 4899 && code !== '4005')
        .reduce((s, [, n]) => s + n, 0),
      closes,
      duplicates: report.duplicates,
      wireRepeats: report.wireRepeats,
      change: changeReport,
      split: await split(),
      ...extra,
    };
    log(
      `  ${plan.server} ${name}: ${measured.affected} affected, ${measured.backLive} back; time-to-live p50 ${fmt(measured.timeToLive.p50Ms)} p99 ${fmt(measured.timeToLive.p99Ms)} max ${fmt(measured.timeToLive.maxMs)} ms; outage p50 ${fmt(measured.outage.p50Ms)} p99 ${fmt(measured.outage.p99Ms)} max ${fmt(measured.outage.maxMs)} ms; ` +
        `${measured.failedAttempts} failed attempts, ${measured.closes1013}×1013; change reached ${changeReport.reachedWithin5s}/${changeReport.clients} within 5 s ` +
        `(${changeReport.reached} in 10 s); split ${measured.split.join('/')}${extra.newShare !== undefined ? `; new backend ${(extra.newShare * 100).toFixed(0)} % (≥ 25 % after ${fmt(extra.timeTo25PercentMs ?? NaN)} ms)` : ''}; closes ${JSON.stringify(closes)}`,
    );
    return measured;
  };

  /** No backend off its fair share by more than 10 %: what "settled" means here. */
  const settled = (counts: number[]) => {
    const running = backends.filter((b) => b.running).length;
    const fair = plan.clients / running;
    return backends.every((b, i) => !b.running || Math.abs(counts[i]! - fair) <= 0.1 * fair);
  };
  /** Until settled (or `ms` passed). */
  const settle = async (ms: number) => {
    const deadline = Date.now() + ms;
    for (;;) {
      const counts = await split();
      if (settled(counts) || Date.now() > deadline) return counts;
      await sleep(500);
    }
  };

  try {
    await publisher.publish(seq);
    await Promise.all(backends.slice(0, 2).map((b) => b.start()));
    nginx = await startShippedNginx(plan.root, ports, plan.siteFile);
    const url = plan.server === 'gateway' ? `ws://127.0.0.1:${nginx.port}/ws` : `http://127.0.0.1:${nginx.port}`;
    const kind: FleetKind = plan.server === 'gateway' ? 'live-client' : 'socketio';
    log(`  ${plan.server}: ${plan.clients} clients through NGINX on :${nginx.port} to 2 of 3 backends`);
    // A ramp of about 1000 clients/s in all: the start is not one of the storms measured.
    const rampPer100Ms = Math.max(1, Math.round(100 / Math.max(1, plan.loadGenerators)));
    await fleet.start({ url, token: STORM_TOKEN, count: plan.clients, kind, rampPer100Ms });
    result.connected = await fleet.live();
    log(`  ${plan.server}: ${result.connected} live, split ${(await split()).join('/')}`);

    // 1. Scale-out 2 → 3.
    let since = Date.now();
    await backends[2]!.start();
    const window = plan.scaleOutWindowMs ?? 60_000;
    let timeTo25: number | undefined;
    let newCount = 0;
    while (Date.now() - since < window) {
      const counts = await split();
      newCount = counts[2]!;
      if (timeTo25 === undefined && newCount >= 0.25 * plan.clients) timeTo25 = Date.now() - since;
      if (plan.untilSettled && timeTo25 !== undefined && settled(counts)) break;
      await sleep(500);
    }
    await allLive(waitMs);
    result.steps.push(await step('scale-out 2→3', since, { newShare: newCount / plan.clients, timeTo25PercentMs: timeTo25 }));

    // 2. SIGKILL one, once settled.
    await settle(waitMs);
    since = Date.now();
    backends[0]!.kill();
    await sleep(200);
    await allLive(waitMs);
    result.steps.push(await step('SIGKILL one', since));
    await backends[0]!.start();
    since = Date.now();
    const settledAfterKill = await settle(waitMs);
    log(`  ${plan.server}: killed backend back; split ${settledAfterKill.join('/')} after ${Date.now() - since} ms`);

    // 3. Rolling restart: each SIGTERMed (drain), then started again.
    for (const [i, b] of backends.entries()) {
      since = Date.now();
      await b.term();
      await allLive(waitMs);
      result.steps.push(await step(`SIGTERM ${i + 1}/3 (rolling restart)`, since));
      await b.start();
      await settle(plan.scaleOutWindowMs ?? 60_000);
    }
  } catch (error) {
    result.error = (error as Error).message;
    log(`  ${plan.server} storm FAILED: ${result.error}`);
  } finally {
    await fleet.close();
    await nginx?.stop();
    await Promise.all(backends.map((b) => b.term().catch(() => undefined)));
    await publisher.close();
  }
  return result;
}

function fmt(ms: number): string {
  return Number.isNaN(ms) ? '—' : ms.toFixed(0);
}
