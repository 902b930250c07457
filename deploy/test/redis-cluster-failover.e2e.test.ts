/**
 * Redis Cluster failover under load, with real processes: 3 masters and 3
 * replicas (node-timeout 2 s), two pollers publishing with SPUBLISH, two
 * gateways with sharded subscriptions (SSUBSCRIBE on each slot owner) and 40
 * WebSocket clients of two sites. The master owning site 1's slot is
 * SIGKILLed while every site changes once a second. No client may be
 * disconnected or miss a change, seq only grows, the first change after the
 * kill reaches every client within 10 s of the kill and 5 s of the
 * promotion, and fencing keeps one publisher per site.
 */
import { redisNames } from '@matomo-live/shared';
import { describeWithRedisHa, startCluster, stopAllRedisProcesses, type TestCluster } from '@matomo-live/test-support/redis-ha';
import { failoverProblems, FailoverStack, runFailover } from './redis-failover-stack';

const describeHa = describeWithRedisHa('deploy/test/redis-cluster-failover.e2e.test.ts', { requiredInCi: true });

describeHa('Redis Cluster: the master of site 1 SIGKILLed under 2 pollers, 2 gateways and 40 clients of 2 sites', () => {
  let cluster: TestCluster | undefined;
  let stack: FailoverStack | undefined;

  beforeAll(async () => {
    cluster = await startCluster({ nodeTimeoutMs: 2000, create: 'redis-cli' });
    stack = await FailoverStack.start({ redisEnv: cluster.env });
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
    await cluster?.stop();
    await stopAllRedisProcesses();
  });

  it('keeps every client, misses no change, and delivers the next change within 10 s of the kill and 5 s of the promotion', async () => {
    const slot = await cluster!.slotOf(redisNames('matomo-live:', 1).snapshotKey);
    const result = await runFailover(stack!, (onKilled) => cluster!.killMasterOf(slot, { onKilled }));
    console.log(
      `cluster failover: promoted ${result.promotedAt - result.killedAt} ms after the kill; next change to every client: ` +
        result.next.map((n) => `site ${n.site} +${n.afterKillMs} ms (${n.afterPromotionMs} ms after promotion)`).join(', '),
    );
    expect(failoverProblems(stack!, result)).toEqual([]);
  }, 180_000);
});
