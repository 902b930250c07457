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
    const firstSeq = published()[0]!.seq;
    sim.addVisit({ city: 'Short-lived', latitude: 1, longitude: 1 });
    await waitFor(() => published().some((s) => s.visits_live.length === 1), 'the visit');
    sim.reset();
    // Waits for content, not a count: the visit may be published more than once before the reset is seen.
    await waitFor(() => published().at(-1)!.visits_live.length === 0 && published().length > 2, 'the visit gone');
    const seenByClients = published().at(-1)!.seq;
    await waitFor(async () => Number(await watch.command.hget(names().stateKey, 'seq')) === seenByClients, 'the stored seq');
    const currentBytes = (await watch.command.getBuffer(names().snapshotKey))!;
    const currentDigest = (await watch.command.hget(names().stateKey, 'digest'))!;
    const publishedBefore = published().length;

    // A replica that holds this content under an older seq: the digest matches, the seq does not.
    await rollBackTo(currentBytes, currentDigest, firstSeq);
    await waitFor(() => published().length > publishedBefore, 'the snapshot published over the rolled-back state');
    expect(published()[publishedBefore]!.visits_live).toEqual([]);
    expect(published()[publishedBefore]!.seq).toBeGreaterThan(seenByClients);
    expect(Number(await watch.command.hget(names().stateKey, 'seq'))).toBeGreaterThan(seenByClients);
  });
});
