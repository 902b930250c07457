/**
 * The pass/fail targets of issue 7, and how a run's numbers are judged against them. The thresholds live in
 * TARGETS; the report only prints what evaluateTargets answers.
 */
import type { FanoutResult } from '../fanout/fanout-bench';
import { efficiencyRatio, findRow, memoryRatio } from '../fanout/fanout-ratios';
import type { PollerResult } from '../poller/poller-bench';
import { kib, num } from './format';

/** The thresholds. */
export const TARGETS = {
  /** Gateway deliveries per CPU-second ÷ the bare ws broadcast's, at least. */
  vsBareWs: 0.9,
  /** Gateway deliveries per CPU-second ÷ Socket.IO's, at least. */
  vsSocketIo: 3,
  /** p99 publish→receive, ms, at most — at p99Clients clients and p99Rate updates/s. */
  p99Ms: 25,
  p99Clients: 10_000,
  p99Rate: 1,
  /** Gateway RSS per idle connection, bytes, at most (at the largest size measured). */
  idleRssBytes: 8 * 1024,
  /** Matomo HTTP requests per poller tick, at most (with room for float noise). */
  requestsPerTick: 1.0001,
} as const;

export interface Target {
  name: string;
  measured: string;
  /** undefined: the run did not measure what the target needs. */
  met: boolean | undefined;
}

/** Each target against the fan-out and poller rows of one run. */
export function evaluateTargets(rows: FanoutResult[], pollers: PollerResult[]): Target[] {
  const ok = rows.filter((r) => !r.error);
  const largest = Math.max(0, ...ok.map((r) => r.clients));
  const slowest = Math.min(...ok.map((r) => r.rate));
  // Headline at the largest size and the slowest rate: every server keeps up there, so all do the same work.
  const gw = findRow(rows, 'gateway', largest, slowest);
  const ws = findRow(rows, 'ws', largest, slowest);
  const sio = findRow(rows, 'socketio', largest, slowest);
  const targets: Target[] = [];
  const vsWs = efficiencyRatio(gw, ws);
  targets.push({
    name: `gateway ≥ ${TARGETS.vsBareWs}× bare-ws deliveries/s at equal CPU (${num(largest)} clients, ${slowest}/s; other sizes in the ratio table)`,
    measured: `${num(vsWs, 2)}× (deliveries per CPU-second); delivered msg/s ${num(gw?.deliveredPerSecond ?? NaN)} vs ${num(ws?.deliveredPerSecond ?? NaN)}`,
    met: Number.isNaN(vsWs) ? undefined : vsWs >= TARGETS.vsBareWs,
  });
  const vsSio = efficiencyRatio(gw, sio);
  targets.push({
    name: `gateway ≥ ${TARGETS.vsSocketIo}× Socket.IO (${num(largest)} clients, ${slowest}/s, deliveries per CPU-second)`,
    measured: `${num(vsSio, 2)}×; memory per idle connection ${num(memoryRatio(gw, sio), 1)}× smaller`,
    met: Number.isNaN(vsSio) ? undefined : vsSio >= TARGETS.vsSocketIo,
  });
  // Below the target's size the p99 is shown (the largest size run) but not judged.
  const p99Row = findRow(rows, 'gateway', TARGETS.p99Clients, TARGETS.p99Rate) ?? gw;
  targets.push({
    name: `p99 publish→receive ≤ ${TARGETS.p99Ms} ms at ${TARGETS.p99Clients / 1000}k clients and ${TARGETS.p99Rate} update/s`,
    measured: p99Row ? `${num(p99Row.p99Ms, 2)} ms at ${num(p99Row.clients)} clients, ${p99Row.rate}/s` : 'not measured',
    met: p99Row && p99Row.clients >= TARGETS.p99Clients ? p99Row.p99Ms <= TARGETS.p99Ms : undefined,
  });
  const idle = ok.find((r) => r.server === 'gateway' && r.clients === largest);
  targets.push({
    name: `≤ ${TARGETS.idleRssBytes / 1024} KB RSS per idle connection`,
    measured: idle ? `${kib(idle.idleRssPerClientBytes)} KiB at ${num(largest)} clients` : 'not measured',
    met: idle ? idle.idleRssPerClientBytes <= TARGETS.idleRssBytes : undefined,
  });
  const poller = pollers.find((p) => p.poller === 'matomo-live poller' && !p.error);
  targets.push({
    name: '1 Matomo request per tick',
    measured: poller ? `${num(poller.requestsPerTick, 2)} requests/tick (${poller.ticks} ticks)` : 'not measured',
    met: poller ? poller.requestsPerTick <= TARGETS.requestsPerTick : undefined,
  });
  return targets;
}

/** The targets section of docs/BENCHMARKS.md. */
export function targetsSection(targets: Target[]): string {
  const met = (t: Target) => (t.met === undefined ? 'not measured' : t.met ? '**yes**' : '**no**');
  return `## Targets (issue 7)

| target | measured | met |
| --- | --- | --- |
${targets.map((t) => `| ${t.name} | ${t.measured} | ${met(t)} |`).join('\n')}
`;
}
