import type { IntervalClock } from '@matomo-live/protocol';
import type { Logger } from '@matomo-live/shared';
import type { FleetRegistry } from './fleet-registry';
import type { GatewayMetrics } from '../metrics/gateway-metrics';
import { decideRebalance, InFlightWindow, type RebalancePolicy } from './rebalancer';
import { LOG_DOCS } from '../log-docs';

export interface RebalanceLoopOptions {
  registry: FleetRegistry;
  policy: RebalancePolicy;
  clock: IntervalClock;
  logger: Logger;
  metrics: GatewayMetrics;
  /** This gateway's open connections. */
  connections: () => number;
  draining: () => boolean;
  /** Closes up to `count` clients (oldest first) with a rebalance hint; returns how many it closed. */
  shed: (count: number) => number;
}

/** How long a shed client counts as "in flight": its hint (< 1 s), a report interval, and some slack. */
const IN_FLIGHT_MS = 3000;

/**
 * Every `policy.intervalMs`: report this gateway's count to the fleet, read
 * the others', and shed what decideRebalance says. Redis trouble only stops
 * the shedding (logged once per outage); clients are never closed on a stale view.
 */
export class RebalanceLoop {
  private timer: unknown;
  private running = false;
  private wasShedding = false;
  private refuseAbove = Number.POSITIVE_INFINITY;
  private lastTotal: number | undefined;
  private failing = false;
  private readonly inFlight = new InFlightWindow(IN_FLIGHT_MS);

  constructor(private readonly options: RebalanceLoopOptions) {}

  /** True while shedding. */
  get shedding(): boolean {
    return this.wasShedding;
  }

  /** True while new upgrades should be refused (503, NGINX tries another replica): shedding, and still well above the fair share. */
  get refusing(): boolean {
    return this.wasShedding && this.options.connections() > this.refuseAbove;
  }

  start(): void {
    if (this.timer !== undefined) return;
    this.timer = this.options.clock.setInterval(() => void this.tick(), this.options.policy.intervalMs);
    (this.timer as { unref?: () => void }).unref?.();
  }

  /** Stops deciding and removes this gateway's entry, so the others stop counting it at once. */
  async stop(): Promise<void> {
    if (this.timer !== undefined) this.options.clock.clearInterval(this.timer);
    this.timer = undefined;
    this.wasShedding = false;
    this.refuseAbove = Number.POSITIVE_INFINITY;
    await this.options.registry.leave().catch(() => undefined);
  }

  /** One round (exported for tests, which drive it without timers). */
  async tick(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      await this.round();
    } finally {
      this.running = false;
    }
  }

  private async round(): Promise<void> {
    const { registry, policy, clock, logger, metrics } = this.options;
    const now = clock.now();
    const self = {
      id: registry.id,
      connections: this.options.connections(),
      draining: this.options.draining(),
      inFlight: this.inFlight.count(now),
    };
    let members;
    try {
      members = await registry.report(self);
    } catch (error) {
      if (!this.failing) logger.warn({ err: error, docs: LOG_DOCS.fleetDynamics }, 'cannot share connection counts; rebalancing paused');
      this.failing = true;
      this.wasShedding = false;
      this.refuseAbove = Number.POSITIVE_INFINITY;
      this.lastTotal = undefined;
      return;
    }
    if (this.failing) logger.info('connection counts shared again; rebalancing resumed');
    this.failing = false;
    const decision = decideRebalance(self, members, this.wasShedding, policy, this.lastTotal);
    this.lastTotal = decision.total;
    metrics.fleetGateways.set(decision.gateways);
    metrics.fleetFairShare.set(Math.round(decision.fairShare));
    if (decision.shedding !== this.wasShedding) {
      logger.info(
        { connections: self.connections, fairShare: Math.round(decision.fairShare), gateways: decision.gateways },
        decision.shedding ? 'above the fair share: moving clients to other gateways' : 'within the fair share again',
      );
    }
    this.wasShedding = decision.shedding;
    this.refuseAbove = decision.refuseAbove;
    if (decision.shed > 0) {
      const shed = this.options.shed(decision.shed);
      this.inFlight.add(clock.now(), shed);
      metrics.rebalanceShed.inc(shed);
    }
  }
}
