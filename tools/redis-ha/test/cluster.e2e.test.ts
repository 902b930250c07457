import { redisHaUnavailable } from '../src/availability';
import { startCluster, type TestCluster } from '../src/cluster';
import { probe } from '../src/probe';

const unavailable = redisHaUnavailable();
const describeHa = unavailable === undefined ? describe : describe.skip;
if (unavailable !== undefined) console.warn(`*** SKIPPED tools/redis-ha/test/cluster.e2e.test.ts: ${unavailable}`);

describeHa('startCluster', () => {
  let cluster: TestCluster | undefined;
  afterAll(async () => {
    await cluster?.stop();
  });

  it('creates a cluster with every slot served, and promotes a replica when a master dies', async () => {
    cluster = await startCluster({ masters: 3, replicasPerMaster: 1 });
    expect(cluster.nodes).toHaveLength(6);
    const slot = await cluster.slotOf('matomo-live:site:1');
    const master = await cluster.masterOf(slot);
    await probe(master.port, ['SET', 'matomo-live:site:1', 'x']);
    await cluster.waitInSync();
    const { killed, promoted } = await cluster.killMasterOf(slot);
    expect(killed.port).toBe(master.port);
    expect((await cluster.masterOf(slot)).port).toBe(promoted.port);
    expect(await probe(promoted.port, ['GET', 'matomo-live:site:1'])).toBe('x');
  }, 120_000);
});
