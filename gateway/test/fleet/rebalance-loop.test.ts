import { systemClock } from '@matomo-live/protocol';
import { capturedLogger } from '@matomo-live/test-support/logger';
import type { FleetMember, FleetRegistry } from '../../src/fleet/fleet-registry';
import { GatewayMetrics } from '../../src/metrics/gateway-metrics';
import { RebalanceLoop } from '../../src/fleet/rebalance-loop';

/** A registry in memory: the other gateways' entries are whatever the test says; Redis can be made to fail. */
class FakeRegistry implements FleetRegistry {
  readonly id = 'self';
  others: FleetMember[] = [];
  failing = false;
  reported: Array<Omit<FleetMember, 'id'>> = [];
  left = false;

  async report(self: Omit<FleetMember, 'id'>): Promise<FleetMember[]> {
    if (this.failing) throw new Error('connect ECONNREFUSED');
    this.reported.push(self);
    return [{ id: this.id, ...self }, ...this.others];
  }

  async leave(): Promise<void> {
    this.left = true;
  }
}

function loop(registry: FakeRegistry, state: { connections: number; draining: boolean }) {
  const log = capturedLogger('info');
  const metrics = new GatewayMetrics();
  const shedCalls: number[] = [];
  const rebalancer = new RebalanceLoop({
    registry,
    policy: { margin: 0.1, minExcess: 5, ratePerSecond: 0.03, intervalMs: 1000 },
    clock: { ...systemClock, now: () => 0 },
    logger: log.logger,
    metrics,
    connections: () => state.connections,
    draining: () => state.draining,
    shed: (count) => {
      shedCalls.push(count);
      state.connections -= count;
      return count;
    },
  });
  return { rebalancer, log, metrics, shedCalls };
}

describe('RebalanceLoop', () => {
  it('reports, then sheds on a steady fleet, counting what it shed as in flight and in its metrics', async () => {
    const registry = new FakeRegistry();
    registry.others = [
      { id: 'b', connections: 3000, draining: false, inFlight: 0 },
      { id: 'c', connections: 0, draining: false, inFlight: 0 },
    ];
    const state = { connections: 3000, draining: false };
    const { rebalancer, log, metrics, shedCalls } = loop(registry, state);
    await rebalancer.tick();
    expect(shedCalls).toEqual([]); // the first round only learns the total
    await rebalancer.tick();
    expect(shedCalls).toEqual([90]);
    expect(rebalancer.shedding).toBe(true);
    await rebalancer.tick();
    expect(registry.reported.at(-1)).toMatchObject({ connections: 2910, draining: false, inFlight: 90 });
    expect((await metrics.rebalanceShed.get()).values[0]?.value).toBeGreaterThanOrEqual(90);
    expect((await metrics.fleetGateways.get()).values[0]?.value).toBe(3);
    expect((await metrics.fleetFairShare.get()).values[0]?.value).toBe(2000);
    expect(log.lines().map((l) => l.msg)).toEqual(['above the fair share: moving clients to other gateways']);
  });

  it('pauses while Redis fails, saying so once, and says when it resumes; leaves the fleet when stopped', async () => {
    const registry = new FakeRegistry();
    const { rebalancer, log, shedCalls } = loop(registry, { connections: 10, draining: false });
    registry.failing = true;
    await rebalancer.tick();
    await rebalancer.tick();
    registry.failing = false;
    await rebalancer.tick();
    expect(shedCalls).toEqual([]);
    expect(log.lines().map((l) => [l.level, l.msg])).toEqual([
      [40, 'cannot share connection counts; rebalancing paused'],
      [30, 'connection counts shared again; rebalancing resumed'],
    ]);
    await rebalancer.stop();
    expect(registry.left).toBe(true);
  });
});
