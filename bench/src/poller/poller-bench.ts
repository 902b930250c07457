/**
 * Poller comparison: this poller and the reference loop poll the same
 * simulator at the same interval, at the same time, each through its own
 * counting proxy. Per tick: HTTP requests, request and response body bytes,
 * API calls, and the poller process's CPU.
 */
import { join } from 'node:path';
import { startCountingProxy, type CountingProxy, type ProxyCounts } from '../common/counting-proxy';
import { SIM_TOKEN, startPoller, startSimulator } from '../common/matomo-stack';
import { cpuSeconds, rssBytes } from '../common/proc-stats';
import { startProcess, type StartedProcess } from '../processes';
import { setTimeout as sleep } from 'node:timers/promises';

export interface PollerPlan {
  /** FETCH_INTERVAL of both pollers, ms. */
  intervalMs: number;
  /** Measured seconds (after `warmupS`). */
  durationS: number;
  warmupS: number;
  /** A synthetic visit every this many ms, so there is news to fetch. */
  visitEveryMs: number;
  redisUrl: string;
  root: string;
  log: (line: string) => void;
}

export interface PollerResult {
  poller: 'matomo-live poller' | 'reference loop';
  ticks: number;
  requestsPerTick: number;
  apiCallsPerTick: number;
  requestBytesPerTick: number;
  responseBytesPerTick: number;
  cpuMsPerTick: number;
  rssBytes: number;
  error?: string;
}

export async function runPollerBench(plan: PollerPlan): Promise<PollerResult[]> {
  const started: StartedProcess[] = [];
  const proxies: CountingProxy[] = [];
  try {
    const sim = await startSimulator(plan.root, plan.visitEveryMs);
    started.push(sim.process);
    const ours = await startCountingProxy(sim.url);
    const reference = await startCountingProxy(sim.url);
    proxies.push(ours, reference);
    const poller = startPoller(plan.root, {
      matomoUrl: ours.url,
      redisUrl: plan.redisUrl,
      prefix: `bench-poller-${Date.now()}:`,
      intervalMs: plan.intervalMs,
    });
    const referencePoller = startProcess(process.execPath, [join(plan.root, 'bench/dist/poller/reference-poller.js')], {
      env: {
        ...process.env,
        MATOMO_URL: reference.url,
        MATOMO_TOKEN: SIM_TOKEN,
        MATOMO_SITE_ID: '1',
        FETCH_INTERVAL: String(plan.intervalMs),
      },
    });
    started.push(poller, referencePoller);
    await sleep(plan.warmupS * 1000);
    const begin = [ours.counts(), reference.counts()] as const;
    const cpuBegin = [cpuSeconds(poller.pid), cpuSeconds(referencePoller.pid)];
    await sleep(plan.durationS * 1000);
    const end = [ours.counts(), reference.counts()] as const;
    const cpuEnd = [cpuSeconds(poller.pid), cpuSeconds(referencePoller.pid)];
    const result = (i: 0 | 1, name: PollerResult['poller'], pid: number): PollerResult => {
      const d = (k: keyof ProxyCounts): number => end[i][k] - begin[i][k];
      const ticks = d('liveCalls');
      const per = (v: number): number => (ticks ? v / ticks : Number.NaN);
      return {
        poller: name,
        ticks,
        requestsPerTick: per(d('requests')),
        apiCallsPerTick: per(d('apiCalls')),
        requestBytesPerTick: per(d('requestBytes')),
        responseBytesPerTick: per(d('responseBytes')),
        cpuMsPerTick: per(((cpuEnd[i] as number) - (cpuBegin[i] as number)) * 1000),
        rssBytes: rssBytes(pid),
      };
    };
    const results = [result(0, 'matomo-live poller', poller.pid), result(1, 'reference loop', referencePoller.pid)];
    for (const r of results) {
      plan.log(
        `  ${r.poller}: ${r.ticks} ticks, ${r.requestsPerTick.toFixed(2)} req/tick, ${r.responseBytesPerTick.toFixed(0)} B in/tick, ${r.cpuMsPerTick.toFixed(2)} ms CPU/tick`,
      );
    }
    if (poller.child.exitCode !== null) throw new Error(`the poller exited with ${poller.child.exitCode}: ${poller.output()}`);
    return results;
  } catch (error) {
    plan.log(`  poller benchmark FAILED: ${(error as Error).message}`);
    const nan = Number.NaN;
    const failed = (poller: PollerResult['poller']): PollerResult => ({
      poller,
      ticks: 0,
      requestsPerTick: nan,
      apiCallsPerTick: nan,
      requestBytesPerTick: nan,
      responseBytesPerTick: nan,
      cpuMsPerTick: nan,
      rssBytes: nan,
      error: (error as Error).message,
    });
    return [failed('matomo-live poller'), failed('reference loop')];
  } finally {
    await Promise.all(started.map((p) => p.stop()));
    await Promise.all(proxies.map((p) => p.close()));
  }
}
