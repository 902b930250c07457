/** A test fixture, not a test: fan-out rows for the tests of what reads them (targets, ratios, the report). */
import type { FanoutResult, ServerKind } from '../../src/fanout/fanout-bench';

/** A fan-out row: only what the targets read matters; the rest is plausible filler. */
export const fanoutRow = (server: ServerKind, clients: number, rate: number, over: Partial<FanoutResult> = {}): FanoutResult => ({
  server,
  clients,
  connected: clients,
  rate,
  published: 10,
  expected: clients * 10,
  delivered: clients * 10,
  duplicates: 0,
  perClientMin: 10,
  deliveredPerSecond: clients * rate,
  offeredPerSecond: clients * rate,
  p50Ms: 5,
  p99Ms: 20,
  maxMs: 30,
  firstClientP50Ms: 1,
  serverCpuSeconds: 1,
  serverCpuPer1kDeliveriesMs: 10,
  serverCpuPercent: 10,
  loadGeneratorCpuPer1kDeliveriesMs: 20,
  baselineRssBytes: 50e6,
  idleRssPerClientBytes: 7 * 1024,
  loadRssPerClientBytes: 9 * 1024,
  closes: {},
  ...over,
});
