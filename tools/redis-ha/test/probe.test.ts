import { hasRedisServerBinary } from '../src/availability';
import { freePort } from '../src/free-port';
import { info, probe, replicasInSync } from '../src/probe';
import { startRedisServer, type RedisProcess } from '../src/redis-server';
import { pollUntil } from '../src/wait-for';

const describeRedis = hasRedisServerBinary() ? describe : describe.skip;
if (!hasRedisServerBinary())
  console.warn('*** SKIPPED tools/redis-ha/test/probe.test.ts: redis-server is not installed (apt-get install redis-server)');

describeRedis('probe', () => {
  const started: RedisProcess[] = [];
  afterAll(async () => {
    await Promise.all(started.map((p) => p.kill()));
  });

  it('rejects at once for a node that is down (no retries)', async () => {
    await expect(probe(await freePort(), ['PING'])).rejects.toThrow();
  });

  it('reads INFO as a map and tells when replicas have caught up', async () => {
    const master = await startRedisServer({ label: 'probe-master' });
    started.push(master);
    const server = await info(master.port, 'server');
    expect(Number(server.tcp_port)).toBe(master.port);
    const replica = await startRedisServer({ role: { kind: 'replica', masterPort: master.port }, label: 'probe-replica' });
    started.push(replica);
    await probe(master.port, ['SET', 'x', '1']);
    await pollUntil(async () => replicasInSync([master, replica]), 'the replica in sync');
    expect(await probe(replica.port, ['GET', 'x'])).toBe('1');
  });
});
