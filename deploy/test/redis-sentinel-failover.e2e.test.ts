/**
 * Redis Sentinel failover under load, with real processes: 1 master, 1
 * replica, 3 sentinels (down-after 1 s), two pollers, two gateways and 40
 * WebSocket clients of two sites. The master is SIGKILLed while every site
 * changes once a second. No client may be disconnected or miss a change, seq
 * only grows, the first change after the kill reaches every client within
 * 10 s of the kill and 5 s of the promotion, and fencing keeps one publisher
 * per site.
 */
import { describeWithRedisHa, startSentinel, stopAllRedisProcesses, type TestSentinel } from '@matomo-live/test-support/redis-ha';
import { failoverProblems, FailoverStack, runFailover } from './redis-failover-stack';

const describeHa = describeWithRedisHa('deploy/test/redis-sentinel-failover.e2e.test.ts', { requiredInCi: true });

describeHa('Redis Sentinel: the master SIGKILLed under 2 pollers, 2 gateways and 40 clients of 2 sites', () => {
  let sentinel: TestSentinel | undefined;
  let stack: FailoverStack | undefined;

  beforeAll(async () => {
    sentinel = await startSentinel({ downAfterMs: 1000, failoverTimeoutMs: 3000 });
    stack = await FailoverStack.start({ redisEnv: sentinel.env });
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
    await sentinel?.stop();
    await stopAllRedisProcesses();
  });

  it('keeps every client, misses no change, and delivers the next change within 10 s of the kill and 5 s of the promotion', async () => {
    const result = await runFailover(stack!, (onKilled) => sentinel!.killMaster({ onKilled }));
    console.log(
      `sentinel failover: promoted ${result.promotedAt - result.killedAt} ms after the kill; next change to every client: ` +
        result.next.map((n) => `site ${n.site} +${n.afterKillMs} ms (${n.afterPromotionMs} ms after promotion)`).join(', '),
    );
    expect(failoverProblems(stack!, result)).toEqual([]);
  }, 180_000);
});
