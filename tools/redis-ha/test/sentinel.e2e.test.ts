import { redisHaUnavailable } from '../src/availability';
import { probe } from '../src/probe';
import { startSentinel, type TestSentinel } from '../src/sentinel';

const unavailable = redisHaUnavailable();
const describeHa = unavailable === undefined ? describe : describe.skip;
if (unavailable !== undefined) console.warn(`*** SKIPPED tools/redis-ha/test/sentinel.e2e.test.ts: ${unavailable}`);

describeHa('startSentinel', () => {
  let sentinel: TestSentinel | undefined;
  afterAll(async () => {
    await sentinel?.stop();
  });

  it('starts a master, a replica and three sentinels that agree on the master, and fails over when it dies', async () => {
    sentinel = await startSentinel({ replicas: 1, sentinels: 3 });
    expect(await sentinel.currentMasterPort()).toBe(sentinel.master.port);
    await probe(sentinel.master.port, ['SET', 'before', 'failover']);
    await sentinel.waitInSync();
    const { killed, promoted } = await sentinel.killMaster();
    expect(killed.port).toBe(sentinel.master.port);
    expect(await sentinel.currentMasterPort()).toBe(promoted.port);
    expect(await probe(promoted.port, ['GET', 'before'])).toBe('failover');
  }, 120_000);
});
