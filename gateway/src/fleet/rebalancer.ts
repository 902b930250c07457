import type { FleetMember } from './fleet-registry';

/**
 * Rebalancing after scale-out: WebSockets stay where they were opened, so a
 * gateway added to a busy fleet would stay empty. Each gateway compares its
 * count with the fleet's fair share and, when it holds more than the share
 * plus a margin while another gateway is below it, closes some of its oldest
 * clients with a reconnect hint (NGINX's least_conn sends them to the
 * emptier replicas), a few % per second, until it is back within half the
 * margin. Pure decisions here (no timers, no I/O); the gateway runs them.
 */
export interface RebalancePolicy {
  /** Tolerated excess over the fair share before shedding starts, as a fraction (0.1 = 10 %). */
  margin: number;
  /** Fraction of this gateway's connections shed per second at most (0.03 = 3 %/s). */
  ratePerSecond: number;
  /** Time between two decisions, ms (the fleet report interval). */
  intervalMs: number;
  /**
   * Tolerated excess in connections, whatever the fraction: the margin is never smaller than this many
   * connections over the fair share, so that 2 vs 1 or 4 vs 3 screens count as balanced (moving one screen there
   * only moves the imbalance to the other gateway, and every screen would flicker in turn). 0 = the margin alone.
   */
  minExcess: number;
}

export interface FleetView {
  /** Gateways whose entries are fresh, this one included. */
  gateways: number;
  /** (connections + clients in flight) / gateways not draining. */
  fairShare: number;
  /** Connections plus clients in flight, over the fleet: the next round's `previousTotal`. */
  total: number;
}

export interface RebalanceDecision extends FleetView {
  /** Clients to close now. */
  shed: number;
  /** True while shedding (the hysteresis state). */
  shedding: boolean;
  /**
   * While shedding, refuse new upgrades (HTTP 503, so NGINX tries another
   * replica) as long as this gateway holds more than this many connections:
   * fair × (1 + margin / 2). Below it, it takes clients again while it sheds
   * the rest of its excess, so that a fleet in which every other replica
   * refuses too (one drains) never turns a client away. Infinity when not shedding.
   */
  refuseAbove: number;
}

const IDLE = (view: FleetView): RebalanceDecision => ({ ...view, shed: 0, shedding: false, refuseAbove: Number.POSITIVE_INFINITY });

/**
 * One decision. Shedding starts when this gateway is above fair × (1 + margin)
 * while another is below fair × (1 − margin / 2), or when another is below
 * fair × (1 − margin) (a newcomer) while this one is above the stop line;
 * it goes on (`wasShedding`: the hysteresis) down to the stop line,
 * fair × (1 + margin / (2 × other gateways)), so that every gateway ends
 * within the margin and one hovering at an edge does not flap. Nothing is shed while any
 * gateway drains (its clients are on their way to the others), when this
 * gateway is alone, when no other gateway is below the fair share by half
 * the margin (closing clients would only bring them back here), or when the
 * fleet's total moved by more than half the margin since the last round
 * (`previousTotal`; undefined = no last round): after a gateway is killed its
 * entry stays until it is stale while its clients arrive at the others, and a
 * share computed then would make the survivors shed each other's newcomers.
 * The margin is at least `minExcess` connections (see RebalancePolicy), which only matters for small fleets.
 */
export function decideRebalance(
  self: FleetMember,
  members: readonly FleetMember[],
  wasShedding: boolean,
  policy: RebalancePolicy,
  previousTotal?: number,
): RebalanceDecision {
  const others = members.filter((m) => m.id !== self.id);
  const fleet = [self, ...others];
  const active = fleet.filter((m) => !m.draining);
  const total = fleet.reduce((sum, m) => sum + m.connections + m.inFlight, 0);
  const view: FleetView = { gateways: fleet.length, fairShare: active.length > 0 ? total / active.length : 0, total };
  if (self.draining || active.length < 2 || fleet.some((m) => m.draining)) return IDLE(view);
  // The fleet's total moved since the last round: clients are arriving from somewhere (a gateway died and its
  // entry is not stale yet, or one just left): the counts are in flux, and a share computed now would be wrong.
  if (previousTotal === undefined || Math.abs(total - previousTotal) > (previousTotal * policy.margin) / 2) return IDLE(view);
  const fair = view.fairShare;
  const margin = Math.max(policy.margin, policy.minExcess / fair);
  const load = (m: FleetMember) => m.connections + m.inFlight;
  const lowest = Math.min(...others.map(load));
  // Where shedding stops: a slice of the margin per other gateway, so that when all of them stop there the
  // emptiest one is still within the margin (its deficit is the sum of their excesses).
  const stop = fair * (1 + margin / (2 * Math.max(1, others.length)));
  const start =
    // Clearly too many here, and somewhere to send them …
    (self.connections > fair * (1 + margin) && lowest < fair * (1 - margin / 2)) ||
    // … or one gateway clearly too empty (a newcomer) while the excess is spread thin over the others.
    (self.connections > stop && lowest < fair * (1 - margin));
  const goOn = wasShedding && self.connections > stop && lowest < fair * (1 - margin / 2);
  const shedding = start || goOn;
  if (!shedding) return IDLE(view);
  const perTick = Math.max(1, Math.ceil(self.connections * policy.ratePerSecond * (policy.intervalMs / 1000)));
  return {
    ...view,
    shedding: true,
    shed: Math.min(perTick, Math.ceil(self.connections - stop)),
    refuseAbove: fair * (1 + margin / 2),
  };
}

/** Clients shed recently, still reconnecting: counted in the fleet total until they have surely landed somewhere. */
export class InFlightWindow {
  private readonly sheds: Array<{ at: number; count: number }> = [];

  /** @param windowMs how long a shed client counts as in flight. */
  constructor(private readonly windowMs: number) {}

  add(at: number, count: number): void {
    if (count > 0) this.sheds.push({ at, count });
  }

  count(now: number): number {
    while (this.sheds.length > 0 && now - this.sheds[0]!.at > this.windowMs) this.sheds.shift();
    return this.sheds.reduce((sum, s) => sum + s.count, 0);
  }
}
