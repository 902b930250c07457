/** Comparisons between fan-out rows: one server against another at the same size and rate. */
import type { FanoutResult, ServerKind } from './fanout-bench';

/** The row of `server` at `clients` and `rate`, if it ran without error. */
export function findRow(rows: FanoutResult[], server: ServerKind, clients: number, rate: number): FanoutResult | undefined {
  return rows.find((r) => r.server === server && r.clients === clients && r.rate === rate && !r.error);
}

/** "At equal CPU": deliveries per CPU-second of `a` over those of `b` (the inverse ratio of CPU per 1k deliveries). */
export function efficiencyRatio(a?: FanoutResult, b?: FanoutResult): number {
  return a && b ? b.serverCpuPer1kDeliveriesMs / a.serverCpuPer1kDeliveriesMs : Number.NaN;
}

/** Idle RSS per client of `b` over that of `a`: how many times smaller `a` is. */
export function memoryRatio(a?: FanoutResult, b?: FanoutResult): number {
  return a && b ? b.idleRssPerClientBytes / a.idleRssPerClientBytes : Number.NaN;
}
