import Redis from 'ioredis';
import { encodeSnapshot, redisNames } from '@matomo-live/shared';
import { RedisSnapshotFeed, createRedisClients } from '@matomo-live/gateway';
import { spawnRedisServer, uniquePrefix, type SpawnedRedis } from '@matomo-live/test-support/redis';
import { startGateway, type RunningGateway } from '@matomo-live/test-support/gateway';
import { silentLogger } from '@matomo-live/test-support/logger';
import { waitFor } from '@matomo-live/test-support/wait-for';
import { content, TestClient, TestPublisher, testConfig, TOKEN } from './support/harness';

describe('RedisSnapshotFeed', () => {
  let redis: SpawnedRedis;
  const cleanup: Array<() => Promise<void> | void> = [];

  beforeEach(async () => {
    redis = await spawnRedisServer();
  });

  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
    await redis.stop();
  });

  function publisherFor(prefix: string): TestPublisher {
    const client = new Redis(redis.url, { maxRetriesPerRequest: null, retryStrategy: () => 50 });
    client.on('error', () => undefined);
    cleanup.push(() => client.disconnect());
    return new TestPublisher(client, prefix);
  }

  it('subscribes once per site, returns the cached snapshot, and delivers published bytes', async () => {
    const prefix = uniquePrefix('feed');
    const publisher = publisherFor(prefix);
    const cached = await publisher.store(3, 5);
    const clients = createRedisClients(redis.url);
    const feed = new RedisSnapshotFeed({ ...clients, prefix, logger: silentLogger });
    cleanup.push(async () => {
      await feed.close();
      clients.subscriber.disconnect();
      clients.command.disconnect();
    });
    const received: Buffer[] = [];
    expect(await feed.subscribe(3, (b) => received.push(b))).toEqual(cached);
    expect(feed.isReady()).toBe(true);
    const channels = await publisher.redis.pubsub('NUMSUB', redisNames(prefix, 3).snapshotChannel);
    expect(channels[1]).toBe(1);
    const next = encodeSnapshot(content(3, 6), 6, new Date());
    await publisher.publishBytes(3, next);
    await waitFor(() => received.some((b) => b.equals(next)), 'the published message');
    // Besides it, only re-reads of the cache (after the first connect) may arrive; consumers drop them by seq.
    expect(received.filter((b) => !b.equals(next) && !b.equals(cached))).toEqual([]);
  });

  it('re-reads the cached key after a reconnect, so a change made while unsubscribed is not missed', async () => {
    const prefix = uniquePrefix('reread');
    const publisher = publisherFor(prefix);
    await publisher.store(1, 1);
    const g = await startGateway(testConfig(prefix, redis.url));
    cleanup.push(() => g.stop());
    await waitFor(() => g.gateway.isReady(), 'ready');
    const client = TestClient.connect(`${g.url}?token=${TOKEN}`);
    cleanup.push(() => client.ws.terminate());
    await client.nextMessages(1);
    // Atomically drop the gateway's subscription and store a change without publishing it:
    // only the re-read after resubscribing can deliver it.
    const missed = encodeSnapshot(content(1, 2), 2, new Date());
    await publisher.redis.multi().client('KILL', 'TYPE', 'pubsub').set(redisNames(prefix, 1).snapshotKey, missed).exec();
    expect((await client.nextMessages(2, 20_000))[1]).toBe(missed.toString());
    expect(client.closeCode).toBeUndefined();
  });

  it('keeps clients through a Redis restart and delivers what was published during and after it', async () => {
    const prefix = uniquePrefix('restart');
    const publisher = publisherFor(prefix);
    await publisher.store(1, 1);
    const g: RunningGateway = await startGateway(testConfig(prefix, redis.url));
    cleanup.push(() => g.stop());
    await waitFor(() => g.gateway.isReady(), 'ready');
    const client = TestClient.connect(`${g.url}?token=${TOKEN}`);
    cleanup.push(() => client.ws.terminate());
    await client.nextMessages(1);

    await redis.stop();
    await waitFor(() => !g.gateway.isReady(), 'not ready while Redis is down');
    await redis.start();
    // Redis came back empty and the poller publishes at once: whether the gateway has
    // resubscribed by then (channel) or not (re-read of the key after resubscribing), it arrives.
    const afterOutage = await publisher.publish(1, 1_000);
    await waitFor(() => g.gateway.isReady(), 'ready again', 20_000);
    expect((await client.nextMessages(2, 20_000))[1]).toBe(afterOutage.toString());
    const next = await publisher.publish(1, 1_001);
    expect((await client.nextMessages(3))[2]).toBe(next.toString());
    expect(client.closeCode).toBeUndefined();
  });

  it('starts without Redis: listening, not ready; ready once Redis appears', async () => {
    const prefix = uniquePrefix('late');
    await redis.stop();
    const g = await startGateway(testConfig(prefix, redis.url));
    cleanup.push(() => g.stop());
    const res = await fetch(`http://127.0.0.1:${g.port}/readyz`);
    expect(res.status).toBe(503);
    expect((await fetch(`http://127.0.0.1:${g.port}/healthz`)).status).toBe(200);
    await redis.start();
    await waitFor(() => g.gateway.isReady(), 'ready after Redis started', 20_000);
    expect((await fetch(`http://127.0.0.1:${g.port}/readyz`)).status).toBe(200);
  });
});
