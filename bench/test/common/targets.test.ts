import { evaluateTargets, TARGETS, targetsSection, type Target } from '../../src/common/targets';
import { fanoutRow as row } from '../fanout/fanout-rows';
import type { PollerResult } from '../../src/poller/poller-bench';

const poller = (requestsPerTick: number): PollerResult => ({
  poller: 'matomo-live poller',
  ticks: 60,
  requestsPerTick,
  apiCallsPerTick: 7,
  requestBytesPerTick: 500,
  responseBytesPerTick: 9000,
  cpuMsPerTick: 2,
  rssBytes: 60e6,
});

const byName = (targets: Target[], start: string): Target => targets.find((t) => t.name.startsWith(start))!;

describe('evaluateTargets', () => {
  // CPU per 1k deliveries: gateway 10 ms, bare ws 9.5 (the gateway does 0.95× its deliveries per CPU-second: met), Socket.IO 25 (2.5×: not met).
  const rows = [
    row('gateway', 10_000, 1),
    row('ws', 10_000, 1, { serverCpuPer1kDeliveriesMs: 9.5 }),
    row('socketio', 10_000, 1, { serverCpuPer1kDeliveriesMs: 25, idleRssPerClientBytes: 14 * 1024 }),
    // A faster rate and a smaller size must not be the headline.
    row('gateway', 10_000, 10, { serverCpuPer1kDeliveriesMs: 1 }),
    row('gateway', 1000, 1, { p99Ms: 1 }),
  ];

  it('judges each target at the largest size and the slowest rate', () => {
    const targets = evaluateTargets(rows, [poller(1)]);
    expect(targets.map((t) => t.met)).toEqual([true, false, true, true, true]);
    expect(byName(targets, 'gateway ≥ 0.9× bare-ws').measured).toMatch(/^0\.95× /);
    expect(byName(targets, 'gateway ≥ 0.9× bare-ws').name).toContain('10,000 clients, 1/s');
    expect(byName(targets, 'gateway ≥ 3× Socket.IO').measured).toBe('2.50×; memory per idle connection 2.0× smaller');
    expect(byName(targets, 'p99 publish→receive').measured).toBe('20.00 ms at 10,000 clients, 1/s');
    expect(byName(targets, '≤ 8 KB RSS').measured).toBe('7.0 KiB at 10,000 clients');
  });

  it('fails each threshold just past its edge', () => {
    const over = [
      row('gateway', 10_000, 1, { p99Ms: TARGETS.p99Ms + 0.01, idleRssPerClientBytes: TARGETS.idleRssBytes + 1 }),
      row('ws', 10_000, 1, { serverCpuPer1kDeliveriesMs: 10 * TARGETS.vsBareWs - 0.01 }),
    ];
    const targets = evaluateTargets(over, [poller(2)]);
    expect(byName(targets, 'gateway ≥ 0.9× bare-ws').met).toBe(false);
    expect(byName(targets, 'p99 publish→receive').met).toBe(false);
    expect(byName(targets, '≤ 8 KB RSS').met).toBe(false);
    expect(byName(targets, '1 Matomo request').met).toBe(false);
  });

  it('says "not measured" (met undefined) for what a run lacks, and skips failed rows', () => {
    const targets = evaluateTargets([row('gateway', 5000, 1), row('ws', 5000, 1, { error: 'crashed' })], []);
    expect(byName(targets, 'gateway ≥ 0.9× bare-ws').met).toBeUndefined();
    expect(byName(targets, 'gateway ≥ 3× Socket.IO').met).toBeUndefined();
    // A p99 below the target's size is shown, not judged.
    expect(byName(targets, 'p99 publish→receive')).toMatchObject({ measured: '20.00 ms at 5,000 clients, 1/s', met: undefined });
    expect(byName(targets, '1 Matomo request')).toMatchObject({ measured: 'not measured', met: undefined });
  });
});

describe('targetsSection', () => {
  it('prints one row per target with yes, no or not measured', () => {
    const text = targetsSection([
      { name: 'a', measured: '1', met: true },
      { name: 'b', measured: '2', met: false },
      { name: 'c', measured: 'not measured', met: undefined },
    ]);
    expect(text).toContain('| a | 1 | **yes** |\n| b | 2 | **no** |\n| c | not measured | not measured |');
  });
});
