import { hasRedisServerBinary } from '../src/availability';
import { info, probe } from '../src/probe';
import { startRedisServer, type RedisProcess } from '../src/redis-server';
import { pollUntil } from '../src/wait-for';

const describeRedis = hasRedisServerBinary() ? describe : describe.skip;
if (!hasRedisServerBinary())
  console.warn('*** SKIPPED tools/redis-ha/test/redis-server.test.ts: redis-server is not installed (apt-get install redis-server)');

describeRedis('startRedisServer', () => {
  const started: RedisProcess[] = [];
  afterAll(async () => {
    await Promise.all(started.map((p) => p.kill()));
  });

  it('starts a standalone node with a password, and a replica of it that follows', async () => {
    const master = await startRedisServer({ password: 'pw', label: 'harness-master' });
    started.push(master);
    expect(master.url).toBe(`redis://127.0.0.1:${master.port}`);
    await expect(probe(master.port, ['PING'])).rejects.toThrow();
    await expect(probe(master.port, ['PING'], 'wrong')).rejects.toThrow();
    await expect(probe(master.port, ['PING'], 'pw')).resolves.toBe('PONG');
    const replica = await startRedisServer({
      role: { kind: 'replica', masterPort: master.port },
      password: 'pw',
      label: 'harness-replica',
    });
    started.push(replica);
    await probe(master.port, ['SET', 'k', 'v'], 'pw');
    await pollUntil(async () => (await probe(replica.port, ['GET', 'k'], 'pw')) === 'v', 'the replica to copy k');
    expect((await info(replica.port, 'replication', 'pw')).role).toBe('slave');
  });

  it('kill() ends the process: it no longer answers', async () => {
    const node = await startRedisServer({ label: 'harness-kill' });
    expect(node.alive()).toBe(true);
    await node.kill();
    expect(node.alive()).toBe(false);
    await expect(probe(node.port, ['PING'])).rejects.toThrow();
  });

  it('fails clearly when redis-server refuses its arguments', async () => {
    await expect(startRedisServer({ args: ['--no-such-option', 'x'], label: 'harness-bad', readyTimeoutMs: 10_000 })).rejects.toThrow();
  });
});
