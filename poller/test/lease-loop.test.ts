import { redisNames } from '@matomo-live/shared';
import { capturedLogger } from '@matomo-live/test-support/logger';
import { LeaseLoop } from '../src/lease-loop';
import { RedisLeaseManager } from '../src/redis-lease';
import { createSiteState, type SiteState } from '../src/site-state';
import { ManualClock, watchRedis, type RedisWatch } from './support/harness';

let watch: RedisWatch;
beforeEach(async () => {
  watch = await watchRedis([1, 2]);
});
afterEach(() => watch.close());

/** A loop over sites 1 and 2 on the real Redis; the clock only moves with advance(). */
function loopOf(owner: string, clock: ManualClock, running = () => true) {
  const sites = new Map<number, SiteState>([
    [1, createSiteState(5, true)],
    [2, createSiteState(5, true)],
  ]);
  const log = capturedLogger();
  let won = 0;
  const loop = new LeaseLoop({
    leases: new RedisLeaseManager(watch.command, 60_000, watch.prefix, owner),
    sites,
    clock,
    log: log.logger,
    refreshMs: 20_000,
    isRunning: running,
    onWon: () => won++,
  });
  return { loop, sites, log, won: () => won };
}

describe('LeaseLoop', () => {
  it('the first poller leads every site and says so; the next one is standby, said once', async () => {
    const clock = new ManualClock(1_000_000);
    const leader = loopOf('leader', clock);
    await leader.loop.run();
    expect([...leader.sites.values()].map((s) => s.leaderUntil)).toEqual([1_060_000, 1_060_000]);
    expect(leader.won()).toBe(1);
    expect(leader.log.lines().filter((l) => l.msg === 'leading this site')).toHaveLength(2);
    expect(clock.pendingDelays()).toEqual([20_000]);

    const standby = loopOf('standby', clock);
    await standby.loop.run();
    await standby.loop.run();
    expect([...standby.sites.values()].map((s) => s.leaderUntil)).toEqual([0, 0]);
    expect(standby.won()).toBe(0);
    expect(standby.log.lines().filter((l) => String(l.msg).startsWith('standby'))).toEqual([expect.objectContaining({ sites: [1, 2] })]);
    await Promise.all([leader.loop.stop(), standby.loop.stop()]);
  });

  it('releaseHeld gives the leases back; a stopped poller plans no further round', async () => {
    const clock = new ManualClock(1_000_000);
    let running = true;
    const { loop, sites } = loopOf('leader', clock, () => running);
    await loop.run();
    running = false;
    await loop.stop();
    await loop.releaseHeld();
    expect(await watch.command.exists(redisNames(watch.prefix, 1).leaseKey, redisNames(watch.prefix, 2).leaseKey)).toBe(0);
    expect([...sites.values()].map((s) => s.leaderUntil)).toEqual([0, 0]);
    const other = loopOf('other', clock);
    await other.loop.run();
    expect(other.won()).toBe(1);
    await other.loop.stop();
    expect(clock.pendingDelays()).toEqual([]);
    await loop.run();
    expect(clock.pendingDelays()).toEqual([]);
  });
});
