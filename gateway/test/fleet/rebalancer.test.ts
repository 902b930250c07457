import type { FleetMember } from '../../src/fleet/fleet-registry';
import { decideRebalance, InFlightWindow, type RebalancePolicy } from '../../src/fleet/rebalancer';

const policy: RebalancePolicy = { margin: 0.1, minExcess: 5, ratePerSecond: 0.03, intervalMs: 1000 };
const member = (id: string, connections: number, extra: Partial<FleetMember> = {}): FleetMember => ({
  id,
  connections,
  draining: false,
  inFlight: 0,
  ...extra,
});

/** A decision in a steady fleet: the total did not move since the last round. */
const decide = (self: FleetMember, fleet: FleetMember[], wasShedding: boolean, withPolicy = policy) =>
  decideRebalance(
    self,
    fleet,
    wasShedding,
    withPolicy,
    fleet.reduce((sum, m) => sum + m.connections + m.inFlight, 0),
  );

/** Runs decisions round after round, moving the shed clients to the emptiest gateway (least_conn), as the fleet would. */
function simulate(counts: number[], rounds: number, withPolicy = policy): { counts: number[]; shedPerRound: number[] } {
  const shedding = counts.map(() => false);
  const shedPerRound: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const members = counts.map((c, i) => member(`g${i}`, c));
    const decisions = members.map((self, i) => decide(self, members, shedding[i]!, withPolicy));
    let moved = 0;
    decisions.forEach((d, i) => {
      shedding[i] = d.shedding;
      counts[i]! -= d.shed;
      moved += d.shed;
    });
    for (let n = 0; n < moved; n++) counts[counts.indexOf(Math.min(...counts))]! += 1;
    shedPerRound.push(moved);
  }
  return { counts, shedPerRound };
}

describe('decideRebalance', () => {
  it('after a scale-out 3000/3000/0, sheds a few % per second until the new gateway holds its share, then stops for good', () => {
    const { counts, shedPerRound } = simulate([3000, 3000, 0], 60);
    expect(shedPerRound[0]).toBe(180); // 3 % of 3000, from each of the two full gateways
    expect(Math.min(...counts)).toBeGreaterThanOrEqual(0.25 * 6000);
    for (const c of counts) expect(Math.abs(c - 2000)).toBeLessThanOrEqual(0.1 * 2000);
    // Settled: the last rounds move nobody, and it stays so (no oscillation).
    expect(shedPerRound.slice(-20)).toEqual(Array(20).fill(0));
    expect(counts.reduce((a, b) => a + b)).toBe(6000);
  });

  it('never sheds within the margin, and has hysteresis: starts above +10 %, goes on down to +2.5 % (half the margin over two others)', () => {
    const fleet = [member('a', 2150), member('b', 1850), member('c', 2000)];
    expect(decide(fleet[0]!, fleet, false)).toMatchObject({ shed: 0, shedding: false, gateways: 3, fairShare: 2000 });
    // Already shedding (it was above 2200): it goes on while above 2050, 3 % of its clients per second.
    expect(decide(fleet[0]!, fleet, true)).toMatchObject({ shed: 65, shedding: true });
    const start = [member('a', 2250), member('b', 1875), member('c', 1875)];
    expect(decide(start[0]!, start, false)).toMatchObject({ shed: 68, shedding: true });
  });

  it('starts when one gateway is clearly too empty even if the excess is spread thin over the others', () => {
    // After a restart: 1715 / 2183 / 2102. No one is above +10 %, but the first is 14 % short.
    const fleet = [member('a', 1715), member('b', 2183), member('c', 2102)];
    expect(decide(fleet[1]!, fleet, false)).toMatchObject({ shedding: true, shed: 66 });
    expect(decide(fleet[2]!, fleet, false)).toMatchObject({ shedding: true, shed: 52 });
    expect(decide(fleet[0]!, fleet, false).shedding).toBe(false);
    const { counts } = simulate([1715, 2183, 2102], 30);
    for (const c of counts) expect(Math.abs(c - 2000)).toBeLessThanOrEqual(0.1 * 2000);
  });

  it('stops shedding once no other gateway is below the fair share (by half the margin), even above the stop line', () => {
    const fleet = [member('a', 2150), member('b', 1850), member('c', 2000)];
    expect(decide(fleet[0]!, fleet, true).shed).toBeGreaterThan(0);
    const noneBelow = [member('a', 2110), member('b', 1945), member('c', 1945)];
    expect(decide(noneBelow[0]!, noneBelow, true)).toMatchObject({ shed: 0, shedding: false });
  });

  it('does nothing while it or any other gateway drains, or when alone', () => {
    const drainingPeer = [member('a', 3000), member('b', 0), member('c', 3000, { draining: true })];
    expect(decide(drainingPeer[0]!, drainingPeer, true)).toMatchObject({ shed: 0, shedding: false });
    const self = member('a', 3000, { draining: true });
    expect(decide(self, [self, member('b', 0)], false).shed).toBe(0);
    expect(decide(member('a', 3000), [member('a', 3000)], false)).toMatchObject({ shed: 0, gateways: 1, fairShare: 3000 });
  });

  it('counts clients in flight, so it does not shed again the ones already on their way', () => {
    // a shed 400 a moment ago: they are not on b yet. Without them, fair share 2000 and a at 2600 would shed more.
    const fleet = [member('a', 2600, { inFlight: 400 }), member('b', 1000), member('c', 2000)];
    const decision = decide(fleet[0]!, fleet, true);
    expect(decision.fairShare).toBeCloseTo(2000);
    expect(decision.shed).toBe(78);
    const landed = [member('a', 2600), member('b', 1400), member('c', 2000)];
    expect(decide(landed[0]!, landed, true).fairShare).toBe(2000);
  });

  it('sheds at least one client per round and never below the stop line', () => {
    const small = [member('a', 12), member('b', 0), member('c', 6)];
    expect(decide(small[0]!, small, false)).toMatchObject({ shed: 1, shedding: true });
    const near = [member('a', 2056), member('b', 1000), member('c', 2944)];
    expect(decide(near[0]!, near, true).shed).toBe(6);
  });
});

describe('decideRebalance in small fleets (the minExcess floor)', () => {
  it.each([[[2, 1]], [[4, 3]], [[1, 1, 1]], [[3, 2, 2]], [[11, 10, 9]], [[16, 14]]])('leaves %j alone, round after round', (counts) => {
    const { shedPerRound } = simulate([...counts], 300);
    expect(shedPerRound).toEqual(Array(300).fill(0));
  });

  it('without the floor, 2 vs 1 flaps for ever: every round one screen moves (what the floor prevents)', () => {
    const members = [member('a', 2), member('b', 1)];
    expect(decideRebalance(members[0]!, members, false, { ...policy, minExcess: 0 }, 3)).toMatchObject({ shedding: true, shed: 1 });
    expect(decideRebalance(members[0]!, members, false, policy, 3)).toMatchObject({ shedding: false, shed: 0 });
  });

  it('still moves screens to a newcomer once the excess is more than a handful, and stops within the floor', () => {
    const { counts } = simulate([30, 0], 60);
    expect(Math.min(...counts)).toBeGreaterThanOrEqual(10);
    expect(Math.max(...counts) - 15).toBeLessThanOrEqual(5);
    expect(counts[0]! + counts[1]!).toBe(30);
  });

  it('does not change large fleets: the percentage margin is wider than the floor there', () => {
    const withFloor = simulate([3000, 3000, 0], 60);
    const without = simulate([3000, 3000, 0], 60, { ...policy, minExcess: 0 });
    expect(withFloor.counts).toEqual(without.counts);
    expect(withFloor.shedPerRound).toEqual(without.shedPerRound);
  });
});

describe('decideRebalance while the fleet is in flux', () => {
  it('holds while the total moves: a killed gateway still listed while its clients arrive at the others', () => {
    // Round 1 after the kill: "a" is dead but listed (its entry is not stale yet); b and c took 800 of its clients.
    const listed = [member('b', 2900), member('a', 2000), member('c', 2100)];
    expect(decideRebalance(listed[0]!, listed, false, policy, 6000)).toMatchObject({ shed: 0, shedding: false, total: 7000 });
    // Round 2: a's entry is gone; the total fell from 7000 to 6000.
    const pruned = [member('b', 3300), member('c', 2700)];
    expect(decideRebalance(pruned[0]!, pruned, false, policy, 7000)).toMatchObject({ shed: 0, total: 6000 });
    // Round 3: steady again. b is above 3300 (3000 + 10 %) and c below 2850: now b sheds.
    const steady = [member('b', 3400), member('c', 2600)];
    expect(decideRebalance(steady[0]!, steady, false, policy, 6000)).toMatchObject({ shedding: true, shed: 102 });
  });

  it('holds on its first round (no total to compare with) and stops shedding when the total jumps', () => {
    const fleet = [member('a', 3000), member('b', 3000), member('c', 0)];
    expect(decideRebalance(fleet[0]!, fleet, false, policy, undefined).shed).toBe(0);
    expect(decideRebalance(fleet[0]!, fleet, true, policy, 6000).shed).toBe(90);
    expect(decideRebalance(fleet[0]!, fleet, true, policy, 5000)).toMatchObject({ shed: 0, shedding: false });
  });
});

describe('InFlightWindow', () => {
  it('counts sheds for the window only', () => {
    const window = new InFlightWindow(3000);
    window.add(0, 100);
    window.add(1000, 50);
    window.add(1500, 0);
    expect(window.count(2000)).toBe(150);
    expect(window.count(3500)).toBe(50);
    expect(window.count(4001)).toBe(0);
  });
});
