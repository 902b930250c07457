// The poller wired to Redis (createRedisPoller) when Redis loses what it acknowledged: a failover
// promotes a replica that missed the last writes. The poller must publish the current state again,
// with a seq above every one clients saw.
import { decodeSnapshot, type Snapshot } from '@matomo-live/protocol';
import { redisNames } from '@matomo-live/shared';
import { startMatomoSim, type MatomoSim } from '@matomo-live/matomo-sim';
import { singleNode } from '@matomo-live/test-support/redis-ha';
import { silentLogger } from '@matomo-live/test-support/logger';
import { createRedisPoller, type RedisPoller } from '../src/redis-wiring';
import { SIM_TOKEN, testConfig, waitFor, watchRedis, type RedisWatch } from './support/harness';

let sim: MatomoSim;
let watch: RedisWatch;
let running: RedisPoller | undefined;

beforeEach(async () => {
  sim = await startMatomoSim({ token: SIM_TOKEN, siteIds: [1], timezone: 'Europe/Paris' });
  watch = await watchRedis([1]);
});
afterEach(async () => {
  await running?.poller.stop();
  await running?.close();
  running = undefined;
  await sim.close();
  await watch.close();
});

async function startPoller(env: Record<string, string> = {}): Promise<RedisPoller> {
  const config = testConfig(sim, watch.url, watch.prefix, { MATOMO_SITE_IDS: '1', SUMMARY_INTERVAL: '600000', ...env });
  running = createRedisPoller({ config, redis: singleNode(watch.url), logger: silentLogger });
  await running.poller.start();
  return running;
}

const published = (): Snapshot[] =>
  watch.messages().map((bytes) => {
    const decoded = decodeSnapshot(bytes);
    if ('error' in decoded) throw new Error(decoded.error);
    return decoded.snapshot;
  });

const names = () => redisNames(watch.prefix, 1);

/** What a promoted replica that missed every write after `bytes` holds for the site. */
async function rollBackTo(bytes: Buffer, digest: string, seq: number): Promise<void> {
  await watch.command.multi().set(names().snapshotKey, bytes).hset(names().stateKey, 'digest', digest, 'seq', String(seq)).exec();
}

describe('createRedisPoller when Redis loses acknowledged writes', () => {
  it('publishes the current snapshot again when the last write was rolled back', async () => {
    await startPoller();
    await waitFor(() => published().length === 1, 'the first snapshot');
    const firstBytes = (await watch.command.getBuffer(names().snapshotKey))!;
    const firstState = await watch.command.hgetall(names().stateKey);
    sim.addVisit({ city: 'Lost in the failover', latitude: 1, longitude: 1 });
    await waitFor(() => published().length === 2, 'the change');
    const lostSeq = published()[1]!.seq;

    await rollBackTo(firstBytes, firstState.digest!, Number(firstState.seq));
    await waitFor(() => published().length === 3, 'the republished change');
    const again = published()[2]!;
    expect(again.visits_live[0]).toMatchObject({ city: 'Lost in the failover' });
    expect(again.seq).toBeGreaterThan(lostSeq);
    expect(Number(await watch.command.hget(names().stateKey, 'seq'))).toBe(again.seq);
  });

  it('publishes again when the state hash was lost, even though the snapshot key survived', async () => {
    await startPoller();
    await waitFor(() => published().length === 1, 'the first snapshot');
    await watch.command.del(names().stateKey);
    await waitFor(() => published().length === 2, 'the republished snapshot');
    expect(published()[1]!.seq).toBeGreaterThan(published()[0]!.seq);
    expect(await watch.command.hget(names().stateKey, 'seq')).toBe(String(published()[1]!.seq));
  });

  it('publishes again when Redis went back to a state with the same content but an older seq', async () => {
    // The visit is deleted below (sim.reset): only the full read of the latest visits sees that, so every tick.
    await startPoller({ LIVE_REFRESH_INTERVAL: '100' });
    await waitFor(() => published().length === 1, 'the first snapshot');
    const emptyBytes = (await watch.command.getBuffer(names().snapshotKey))!;
    const emptyState = await watch.command.hgetall(names().stateKey);
    sim.addVisit({ city: 'Short-lived', latitude: 1, longitude: 1 });
    await waitFor(() => published().length === 2, 'the visit');
    sim.reset(); // the content goes back to what it was first
    await waitFor(() => published().length === 3, 'the content as it was first');
    expect(published()[2]!.visits_live).toEqual(published()[0]!.visits_live);
    const seenByClients = published()[2]!.seq;

    // Both later writes lost: the stored digest equals the current content's, the stored seq is older.
    await rollBackTo(emptyBytes, emptyState.digest!, Number(emptyState.seq));
    await waitFor(() => published().length === 4, 'the snapshot published over the rolled-back state');
    expect(published()[3]!.seq).toBeGreaterThan(seenByClients);
    expect(Number(await watch.command.hget(names().stateKey, 'seq'))).toBeGreaterThan(seenByClients);
  });
});
