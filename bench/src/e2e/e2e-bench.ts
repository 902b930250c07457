/**
 * End to end: simulator change → poller → Redis → 3 gateways → NGINX → Node
 * WebSocket clients. The latency excludes the poll interval: it is measured
 * from the moment the poller's publish reaches a Redis subscriber in this
 * process to each client's receipt of the same seq (one clock: both in this process).
 * The time from the simulator change to the publish (mostly waiting for the
 * next tick) is reported apart.
 */
import Redis from 'ioredis';
import { redisNames } from '@matomo-live/shared';
import { LatencyHistogram } from '../common/histogram';
import { ClientSwarm } from '../common/load-generator';
import { startGateway, startPoller, startSimulator } from '../common/matomo-stack';
import { startNginx, type RunningNginx } from '../common/nginx';
import { monotonicMs, numberField } from '../common/payload';
import type { StartedProcess } from '../processes';
import { BENCH_TOKEN } from '../fanout/fanout-bench';
import { setTimeout as sleep } from 'node:timers/promises';

export interface E2ePlan {
  gateways: number;
  clients: number;
  /** Simulator changes made, one every `changeEveryMs`. */
  changes: number;
  changeEveryMs: number;
  pollIntervalMs: number;
  redisUrl: string;
  root: string;
  log: (line: string) => void;
}

export interface E2eResult {
  gateways: number;
  clients: number;
  connected: number;
  publishes: number;
  expected: number;
  delivered: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Simulator change → poller publish (includes waiting for the tick). */
  pickupP50Ms: number;
  pickupMaxMs: number;
  error?: string;
}

export async function runE2e(plan: E2ePlan): Promise<E2eResult> {
  const prefix = `bench-e2e-${Date.now()}:`;
  const channel = redisNames(prefix, 1).snapshotChannel;
  const started: StartedProcess[] = [];
  let nginx: RunningNginx | undefined;
  let swarm: ClientSwarm | undefined;
  const subscriber = new Redis(plan.redisUrl);
  try {
    const sim = await startSimulator(plan.root, 0);
    started.push(sim.process);
    const gateways = await Promise.all(
      Array.from({ length: plan.gateways }, () =>
        startGateway(plan.root, { redisUrl: plan.redisUrl, prefix, token: BENCH_TOKEN, extra: { TRUST_PROXY: 'loopback' } }),
      ),
    );
    started.push(...gateways.map((g) => g.process));
    nginx = await startNginx(gateways.map((g) => g.port));
    const publishedAt = new Map<number, number>();
    subscriber.on('messageBuffer', (_channel: Buffer, bytes: Buffer) => {
      const seq = numberField(bytes, 'seq');
      if (!publishedAt.has(seq)) publishedAt.set(seq, monotonicMs());
    });
    await subscriber.subscribe(channel);
    const poller = startPoller(plan.root, { matomoUrl: sim.url, redisUrl: plan.redisUrl, prefix, intervalMs: plan.pollIntervalMs });
    started.push(poller);
    // The first publish (the poller's initial snapshot) must be in Redis before clients connect.
    const firstDeadline = Date.now() + 30_000;
    while (publishedAt.size === 0 && Date.now() < firstDeadline) await sleep(100);
    if (publishedAt.size === 0) throw new Error(`the poller published nothing in 30 s: ${poller.output()}`);
    const receipts = new Map<number, number[]>();
    swarm = new ClientSwarm({ url: `ws://127.0.0.1:${nginx.port}/?token=${BENCH_TOKEN}`, count: plan.clients }, (seq, at) => {
      const list = receipts.get(seq) ?? [];
      list.push(at);
      receipts.set(seq, list);
    });
    const connect = await swarm.connect();
    plan.log(
      `  e2e: ${connect.connected} clients through NGINX → ${plan.gateways} gateways${connect.failed ? `, ${connect.failed} failed (${connect.errors.join('; ')})` : ''}`,
    );
    swarm.startMeasuring(Math.max(...publishedAt.keys()) + 1);
    const measuredFrom = publishedAt.size;
    const changes: number[] = [];
    for (let i = 0; i < plan.changes; i++) {
      changes.push(monotonicMs());
      const response = await fetch(new URL('_sim/visits', sim.url), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ city: `Bench ${i}` }),
      });
      if (!response.ok) throw new Error(`POST /_sim/visits answered ${response.status}`);
      await sleep(plan.changeEveryMs);
    }
    const measuredSeqs = [...publishedAt.keys()].slice(measuredFrom);
    const expected = measuredSeqs.length * connect.connected;
    const deadline = Date.now() + 10_000;
    while (swarm.report().delivered < expected && Date.now() < deadline) await sleep(100);
    const latency = new LatencyHistogram();
    const pickup = new LatencyHistogram();
    for (const seq of measuredSeqs) {
      const at = publishedAt.get(seq) as number;
      for (const received of receipts.get(seq) ?? []) latency.record(received - at);
      const change = changes.filter((c) => c <= at).pop();
      if (change !== undefined) pickup.record(at - change);
    }
    const result: E2eResult = {
      gateways: plan.gateways,
      clients: plan.clients,
      connected: connect.connected,
      publishes: measuredSeqs.length,
      expected,
      delivered: swarm.report().delivered,
      p50Ms: latency.percentile(0.5),
      p99Ms: latency.percentile(0.99),
      maxMs: latency.max,
      pickupP50Ms: pickup.percentile(0.5),
      pickupMaxMs: pickup.max,
    };
    plan.log(
      `  e2e: ${result.delivered}/${expected} delivered, publish→client p50 ${result.p50Ms.toFixed(2)} p99 ${result.p99Ms.toFixed(2)} max ${result.maxMs.toFixed(1)} ms; change→publish p50 ${result.pickupP50Ms.toFixed(0)} ms`,
    );
    return result;
  } catch (error) {
    plan.log(`  e2e FAILED: ${(error as Error).message}`);
    const nan = Number.NaN;
    return {
      gateways: plan.gateways,
      clients: plan.clients,
      connected: 0,
      publishes: 0,
      expected: 0,
      delivered: 0,
      p50Ms: nan,
      p99Ms: nan,
      maxMs: nan,
      pickupP50Ms: nan,
      pickupMaxMs: nan,
      error: (error as Error).message,
    };
  } finally {
    await swarm?.close();
    await nginx?.stop();
    await Promise.all(started.map((p) => p.stop()));
    subscriber.disconnect();
  }
}
