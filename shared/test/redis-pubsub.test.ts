// RedisChannelSubscriber against real topologies: one redis-server, Sentinel (1 master, 1 replica,
// 3 sentinels, passwords) and a 6-node Cluster, all spawned here. The failover behaviour itself is
// the *.e2e.test.ts suites' (deploy/test/redis-*-failover.e2e.test.ts).
import Redis, { type Cluster } from 'ioredis';
import { createRedisClient, RedisChannelSubscriber, redisNames, type RedisClient } from '@matomo-live/shared';
import { silentLogger } from '@matomo-live/test-support/logger';
import { spawnRedisServer, type SpawnedRedis } from '@matomo-live/test-support/redis';
import {
  probe,
  redisHaUnavailable,
  singleNode,
  startCluster,
  startSentinel,
  stopAllRedisProcesses,
  type TestCluster,
  type TestSentinel,
} from '@matomo-live/test-support/redis-ha';
import { waitFor } from '@matomo-live/test-support/wait-for';

const unavailable = redisHaUnavailable();
if (unavailable) console.warn(`SKIPPED redis-pubsub tests: ${unavailable}`);
const describeHa = unavailable ? describe.skip : describe;

jest.setTimeout(60_000);

const clients: RedisClient[] = [];
const subscribers: RedisChannelSubscriber[] = [];
afterEach(() => {
  for (const s of subscribers.splice(0)) s.close();
  for (const c of clients.splice(0)) c.disconnect();
});
afterAll(() => stopAllRedisProcesses());

function track<T extends RedisClient>(client: T): T {
  clients.push(client);
  return client;
}

/** A subscriber adapter over a gateway-subscriber connection, and the messages it got by channel. */
function subscriberOn(client: RedisClient) {
  const subscriber = new RedisChannelSubscriber(track(client), { resyncDebounceMs: 50 });
  subscribers.push(subscriber);
  const messages: Array<[string, string]> = [];
  subscriber.onMessage((channel, message) => messages.push([channel, message.toString()]));
  let resyncs = 0;
  subscriber.onResync(() => resyncs++);
  return { subscriber, messages, resyncs: () => resyncs };
}

const channel = (site: number) => redisNames('t-pubsub:', site).snapshotChannel;

describeHa('single Redis', () => {
  let redis: SpawnedRedis;
  beforeAll(async () => {
    redis = await spawnRedisServer();
  });
  afterAll(() => redis.stop());

  it('SUBSCRIBEs, delivers PUBLISHed bytes, and announces the resubscription after a reconnect', async () => {
    const { subscriber, messages, resyncs } = subscriberOn(
      createRedisClient(singleNode(redis.url), 'gateway-subscriber', { logger: silentLogger }),
    );
    expect(subscriber.sharded).toBe(false);
    await subscriber.subscribe(channel(1));
    await subscriber.subscribe(channel(1));
    const publisher = track(new Redis(redis.url));
    expect(await publisher.publish(channel(1), 'one')).toBe(1);
    await waitFor(() => messages.length === 1, 'the message');
    const before = resyncs();
    await publisher.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
    await waitFor(() => resyncs() > before, 'a resync after the reconnect');
    await waitFor(async () => (await publisher.publish(channel(1), 'two')) === 1, 'the subscription to be back');
    await waitFor(() => messages.some(([, m]) => m === 'two'), 'the message after the reconnect');
    expect(messages.map(([c]) => c)).toEqual([channel(1), channel(1)]);
  });
});

describeHa('Sentinel', () => {
  let sentinel: TestSentinel;
  beforeAll(async () => {
    sentinel = await startSentinel({ password: 'data-pw', sentinelPassword: 'sentinel-pw' });
  });
  afterAll(() => sentinel?.stop());

  it('subscribes on the master the sentinels name, with both passwords', async () => {
    const { subscriber, messages } = subscriberOn(createRedisClient(sentinel.connection, 'gateway-subscriber', { logger: silentLogger }));
    await subscriber.subscribe(channel(1));
    expect(subscriber.isConnected()).toBe(true);
    const numsub = (await probe(sentinel.master.port, ['PUBSUB', 'NUMSUB', channel(1)], 'data-pw')) as [string, number];
    expect(numsub[1]).toBe(1);
    const command = track(createRedisClient(sentinel.connection, 'gateway-command', { logger: silentLogger }));
    expect(await command.publish(channel(1), 'via sentinel')).toBe(1);
    await waitFor(() => messages.length === 1, 'the message');
  });
});

describeHa('Cluster (sharded pub/sub)', () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await startCluster({ create: 'commands' });
  });
  afterAll(() => cluster?.stop());

  const sites = [1, 2, 3, 4, 5, 6];

  it('SSUBSCRIBEs each channel on the master owning its slot; a second subscribe does not double the messages', async () => {
    const { subscriber, messages } = subscriberOn(createRedisClient(cluster.connection, 'gateway-subscriber', { logger: silentLogger }));
    expect(subscriber.sharded).toBe(true);
    for (const site of sites) await subscriber.subscribe(channel(site));
    for (const site of sites) await subscriber.subscribe(channel(site));
    const owners = new Set<number>();
    for (const site of sites) {
      const owner = await cluster.masterOf(await cluster.slotOf(channel(site)));
      owners.add(owner.port);
      const counts = (await probe(owner.port, ['PUBSUB', 'SHARDNUMSUB', channel(site)])) as [string, number];
      expect([site, counts[1]]).toEqual([site, 1]);
    }
    expect(owners.size).toBeGreaterThan(1); // the sites spread over the masters
    const publisher = track(createRedisClient(cluster.connection, 'poller', { logger: silentLogger })) as Cluster;
    await waitFor(() => publisher.status === 'ready', 'the publisher');
    for (const site of sites) expect(await publisher.spublish(channel(site), `site ${site}`)).toBe(1);
    await waitFor(() => messages.length === sites.length, 'one message per site');
    expect(messages.map(([c, m]) => [c, m]).sort()).toEqual(sites.map((s) => [channel(s), `site ${s}`]).sort());
    // Classic PUBLISH is another namespace: nothing arrives from it.
    await publisher.publish(channel(1), 'classic');
    await subscriber.resubscribe(channel(1));
    expect(await publisher.spublish(channel(1), 'after resubscribe')).toBe(1);
    await waitFor(() => messages.some(([, m]) => m === 'after resubscribe'), 'the message on the new subscription');
    expect(messages.some(([, m]) => m === 'classic')).toBe(false);
  });

  it('announces a resync (debounced) when a sharded subscriber connection is reset, and keeps delivering', async () => {
    const { subscriber, messages, resyncs } = subscriberOn(
      createRedisClient(cluster.connection, 'gateway-subscriber', { logger: silentLogger }),
    );
    await subscriber.subscribe(channel(1));
    const owner = await cluster.masterOf(await cluster.slotOf(channel(1)));
    const before = resyncs();
    await probe(owner.port, ['CLIENT', 'KILL', 'TYPE', 'pubsub']);
    await waitFor(() => resyncs() > before, 'a resync after the reset');
    const publisher = track(createRedisClient(cluster.connection, 'poller', { logger: silentLogger })) as Cluster;
    await waitFor(
      async () => publisher.status === 'ready' && (await publisher.spublish(channel(1), 'back')) === 1,
      'the subscription back',
    );
    await waitFor(() => messages.some(([, m]) => m === 'back'), 'the message');
    expect(subscriber.isConnected()).toBe(true);
  });
});
