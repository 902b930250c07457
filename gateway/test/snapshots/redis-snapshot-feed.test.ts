import Redis, { type Cluster } from 'ioredis';
import { createRedisClient, encodeHeartbeat, encodeSnapshot, loadGatewayConfig, redisNames, type SiteHeartbeat } from '@matomo-live/shared';
import { RedisSnapshotFeed, createRedisClients } from '@matomo-live/gateway';
import { spawnRedisServer, uniquePrefix, type SpawnedRedis } from '@matomo-live/test-support/redis';
import { startGateway, type RunningGateway } from '@matomo-live/test-support/gateway';
import { capturedLogger, silentLogger } from '@matomo-live/test-support/logger';
import { describeWithRedisHa, singleNode, startCluster, stopAllRedisProcesses, type TestCluster } from '@matomo-live/test-support/redis-ha';
import { waitFor } from '@matomo-live/test-support/wait-for';
import { content, TestClient, TestPublisher, testConfig, TOKEN } from '../support/harness';

const describeHa = describeWithRedisHa('the Redis Cluster tests of the feed');

const heartbeat = (site: number, over: Partial<SiteHeartbeat> = {}): Buffer =>
  encodeHeartbeat({ site, fetch_interval_ms: 2000, data_age_ms: 100, trouble: null, ...over });

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
    const clients = createRedisClients(singleNode(redis.url), { logger: silentLogger });
    const feed = new RedisSnapshotFeed({ ...clients, prefix, logger: silentLogger });
    cleanup.push(async () => {
      await feed.close();
      await clients.close();
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
    await publisher.redis.multi().call('CLIENT', 'KILL', 'TYPE', 'pubsub').set(redisNames(prefix, 1).snapshotKey, missed).exec();
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

  describe('the seq check (messages lost without a reconnect)', () => {
    async function feedWithCheck(prefix: string, seqCheckIntervalMs: number) {
      const clients = createRedisClients(singleNode(redis.url), { logger: silentLogger });
      const captured = capturedLogger('info');
      const feed = new RedisSnapshotFeed({ ...clients, prefix, logger: captured.logger, seqCheckIntervalMs });
      cleanup.push(async () => {
        await feed.close();
        await clients.close();
      });
      return { feed, captured };
    }

    /**
     * The subscriber's first `ready` re-reads every site: a snapshot stored silently before that round ends is
     * delivered by it (uncounted), not by the seq check under test. Wait for the round (its info line).
     */
    async function subscribeSettled(feed: RedisSnapshotFeed, captured: ReturnType<typeof capturedLogger>, onSnapshot: (b: Buffer) => void) {
      await feed.subscribe(1, onSnapshot);
      await waitFor(() => captured.lines().some((l) => l.msg === 'subscribed to snapshots'), 'the first resync round');
    }

    /** Stores a snapshot as the poller does (key + state) but without publishing it: the message is "lost". */
    async function storeSilently(publisher: TestPublisher, prefix: string, site: number, seq: number): Promise<Buffer> {
      const bytes = encodeSnapshot(content(site, seq), seq, new Date());
      const names = redisNames(prefix, site);
      await publisher.redis.multi().set(names.snapshotKey, bytes).hset(names.stateKey, 'seq', String(seq)).exec();
      return bytes;
    }

    it('re-reads a snapshot whose message never came, counts it, and re-subscribes when it keeps happening', async () => {
      const prefix = uniquePrefix('gap');
      const publisher = publisherFor(prefix);
      await publisher.publish(1, 10);
      const { feed, captured } = await feedWithCheck(prefix, 200);
      const received: Buffer[] = [];
      await subscribeSettled(feed, captured, (b) => received.push(b));
      const lost = await storeSilently(publisher, prefix, 1, 11);
      await waitFor(() => received.some((b) => b.equals(lost)), 'the lost snapshot, re-read', 5000);
      expect(feed.stats?.()).toMatchObject({ gapsHealed: { 1: 1 }, resubscribes: 0 });

      const lostAgain = await storeSilently(publisher, prefix, 1, 12);
      await waitFor(() => received.some((b) => b.equals(lostAgain)), 'the second lost snapshot', 5000);
      await waitFor(() => feed.stats?.().resubscribes === 1, 'a fresh subscription after two gaps in a row', 5000);
      expect(feed.stats?.().gapsHealed).toEqual({ 1: 2 });
      // The fresh subscription delivers.
      const next = await publisher.publish(1, 13);
      await waitFor(() => received.some((b) => b.equals(next)), 'a message on the new subscription');
      expect(feed.isReady()).toBe(true);
    });

    it('leaves a stored seq below the delivered one alone (a rolled-back Redis is the poller’s to fix)', async () => {
      const prefix = uniquePrefix('rollback');
      const publisher = publisherFor(prefix);
      const { feed, captured } = await feedWithCheck(prefix, 100);
      const received: Buffer[] = [];
      await subscribeSettled(feed, captured, (b) => received.push(b));
      await publisher.publish(1, 20);
      await waitFor(() => received.length === 1, 'the message');
      await storeSilently(publisher, prefix, 1, 19);
      // Several check rounds later, the older stored snapshot was never delivered.
      const from = feed.stats().seqChecks;
      await waitFor(() => feed.stats().seqChecks >= from + 5, 'five more seq checks');
      expect(received).toHaveLength(1);
      expect(feed.stats?.().gapsHealed).toEqual({});
    });

    it('does not let a poisoned seq (past MAX_SEQ) hold back the real snapshot stored after it', async () => {
      const prefix = uniquePrefix('poison');
      const publisher = publisherFor(prefix);
      const { feed, captured } = await feedWithCheck(prefix, 100);
      const received: Buffer[] = [];
      await subscribeSettled(feed, captured, (b) => received.push(b));
      await publisher.publish(1, Number.MAX_SAFE_INTEGER);
      await waitFor(() => received.length === 1, 'the poisoned message');
      // The poller overwrote it, and that message was lost: the seq check still brings the real one.
      const real = await storeSilently(publisher, prefix, 1, 1_796_000_000_000);
      await waitFor(() => received.some((b) => b.equals(real)), 'the real snapshot, re-read', 5000);
    });

    it('a gateway reports healed gaps on /metrics', async () => {
      const prefix = uniquePrefix('gap-metrics');
      const publisher = publisherFor(prefix);
      await publisher.publish(1, 1);
      const g = await startGateway(testConfig(prefix, redis.url, { REDIS_SEQ_CHECK_INTERVAL: '200' }));
      cleanup.push(() => g.stop());
      await waitFor(() => g.gateway.isReady(), 'gateway ready');
      const client = TestClient.connect(`${g.url}?token=${TOKEN}`);
      cleanup.push(() => client.ws.terminate());
      await client.nextMessages(1);
      const lost = await storeSilently(publisher, prefix, 1, 2);
      expect((await client.nextMessages(2, 5000))[1]).toBe(lost.toString());
      const metrics = await (await fetch(`http://127.0.0.1:${g.port}/metrics`)).text();
      expect(metrics).toMatch(/^matomo_live_gateway_feed_gaps_healed_total\{site="1"\} 1$/m);
      expect(metrics).toMatch(/^matomo_live_gateway_feed_resubscribes_total 0$/m);
    });
  });

  describe('heartbeats (watchHeartbeat)', () => {
    async function feedOn(prefix: string) {
      const clients = createRedisClients(singleNode(redis.url), { logger: silentLogger });
      const feed = new RedisSnapshotFeed({ ...clients, prefix, logger: silentLogger, seqCheckIntervalMs: 0 });
      cleanup.push(async () => {
        await feed.close();
        await clients.close();
      });
      return feed;
    }

    it('returns the stored heartbeat (null when none or expired) and delivers each published one, on the same subscriber', async () => {
      const prefix = uniquePrefix('heartbeat');
      const publisher = publisherFor(prefix);
      const stored = heartbeat(1);
      await publisher.publishHeartbeat(1, stored);
      await publisher.publishHeartbeat(3, heartbeat(3), 1);
      const feed = await feedOn(prefix);
      const snapshots: Buffer[] = [];
      const heard: Buffer[] = [];
      await feed.subscribe(1, (b) => snapshots.push(b));
      // With the TTL it has left: a gateway must not count a stored heartbeat as heard just now.
      const read = await feed.watchHeartbeat(1, (b) => heard.push(b));
      expect(read?.bytes).toEqual(stored);
      expect(read?.ttlLeftMs).toBeGreaterThan(0);
      expect(read?.ttlLeftMs).toBeLessThanOrEqual(15_000);
      expect(await feed.watchHeartbeat(2, () => undefined)).toBeNull();
      await waitFor(async () => (await publisher.redis.exists(redisNames(prefix, 3).heartbeatKey)) === 0, 'the 1 ms heartbeat to expire');
      expect(await feed.watchHeartbeat(3, () => undefined)).toBeNull();
      const [, subscribers] = (await publisher.redis.pubsub('NUMSUB', redisNames(prefix, 1).heartbeatChannel)) as [string, number];
      expect(subscribers).toBe(1);
      expect(feed.isReady()).toBe(true);

      const next = heartbeat(1, { trouble: 'matomo_unreachable', data_age_ms: 4000 });
      await publisher.publishHeartbeat(1, next);
      await waitFor(() => heard.some((b) => b.equals(next)), 'the published heartbeat');
      // Heartbeats go to their watcher only, snapshots to theirs.
      const snapshot = await publisher.publish(1, 7);
      await waitFor(() => snapshots.some((b) => b.equals(snapshot)), 'the snapshot');
      expect(snapshots.every((b) => !b.equals(next))).toBe(true);
      expect(heard.every((b) => !b.equals(snapshot))).toBe(true);
    });

    it('re-reads the stored heartbeat after the subscriber connection is killed, and delivers it', async () => {
      const prefix = uniquePrefix('heartbeat-kill');
      const publisher = publisherFor(prefix);
      const feed = await feedOn(prefix);
      const heard: Buffer[] = [];
      const ttls: Array<number | undefined> = [];
      await feed.subscribe(1, () => undefined);
      expect(
        await feed.watchHeartbeat(1, (b, ttlLeftMs) => {
          heard.push(b);
          ttls.push(ttlLeftMs);
        }),
      ).toBeNull();
      // Drop the subscription and store a heartbeat without publishing it: only the re-read can deliver it.
      const missed = heartbeat(1, { trouble: 'auth_refused' });
      await publisher.redis
        .multi()
        .call('CLIENT', 'KILL', 'TYPE', 'pubsub')
        .set(redisNames(prefix, 1).heartbeatKey, missed, 'PX', 15_000)
        .exec();
      await waitFor(() => heard.some((b) => b.equals(missed)), 'the stored heartbeat, re-read after the reconnect', 20_000);
      const reread = ttls[heard.findIndex((b) => b.equals(missed))];
      expect(reread).toBeGreaterThan(0);
      expect(reread).toBeLessThanOrEqual(15_000);
      await waitFor(() => feed.isReady(), 'subscribed again');
      // And the channel works again.
      const next = heartbeat(1, { data_age_ms: 5 });
      await publisher.publishHeartbeat(1, next);
      await waitFor(() => heard.some((b) => b.equals(next)), 'a heartbeat published after the reconnect');
    });
  });

  it('retries a feed that never reached Redis quietly: no warning per retry, one info line once subscribed', async () => {
    const prefix = uniquePrefix('quiet');
    await redis.stop();
    const captured = capturedLogger('debug');
    const clients = createRedisClients(singleNode(redis.url), { logger: silentLogger });
    const feed = new RedisSnapshotFeed({ ...clients, prefix, logger: captured.logger, seqCheckIntervalMs: 0 });
    cleanup.push(async () => {
      await feed.close();
      await clients.close();
    });
    // The caller (gateway.ts) warns once per site when the first subscribe fails; the retries are the feed's.
    await expect(feed.subscribe(1, () => undefined)).rejects.toThrow();
    await waitFor(() => feed.stats().resyncs >= 3, 'three failed retry rounds', 20_000);
    await redis.start();
    const byMessage = (msg: string) => captured.lines().filter((l) => l.msg === msg);
    // isReady() turns true once subscribed, a moment before the re-read ends and the line is written.
    await waitFor(() => byMessage('subscribed to snapshots').length > 0, 'subscribed once Redis is there', 20_000);
    expect(feed.isReady()).toBe(true);
    expect(byMessage('resubscribe or re-read failed again').length).toBeGreaterThanOrEqual(2);
    expect(captured.lines().filter((l) => (l.level as number) >= 40)).toEqual([]);
    expect(byMessage('subscribed to snapshots')).toHaveLength(1);
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

describeHa('RedisSnapshotFeed in a Redis Cluster (SSUBSCRIBE on each slot owner)', () => {
  let cluster: TestCluster;
  let publisher: Cluster;
  const sites = [1, 2, 3, 4];

  beforeAll(async () => {
    cluster = await startCluster({ create: 'commands' });
    publisher = createRedisClient(cluster.connection, 'gateway-command', { logger: silentLogger }) as Cluster;
  }, 60_000);
  afterAll(async () => {
    publisher?.disconnect();
    await cluster?.stop();
    await stopAllRedisProcesses();
  });

  /** As the poller's script does in Cluster mode: key, state and SPUBLISH, all in the site's slot. */
  async function publish(prefix: string, site: number, seq: number, { silently = false } = {}): Promise<Buffer> {
    const bytes = encodeSnapshot(content(site, seq), seq, new Date());
    const names = redisNames(prefix, site);
    await publisher.multi().set(names.snapshotKey, bytes).hset(names.stateKey, 'seq', String(seq)).exec();
    if (!silently) await publisher.spublish(names.snapshotChannel, bytes);
    return bytes;
  }

  it('watches heartbeats with SSUBSCRIBE on each slot owner: the stored one, then each SPUBLISHed one', async () => {
    const prefix = uniquePrefix('cluster-heartbeat');
    const clients = createRedisClients(cluster.connection, { logger: silentLogger });
    const feed = new RedisSnapshotFeed({ ...clients, prefix, logger: silentLogger, seqCheckIntervalMs: 0 });
    try {
      /** As RedisSnapshotPublisher.publishHeartbeat does in Cluster mode. */
      const publishHeartbeat = async (site: number, bytes: Buffer) => {
        const names = redisNames(prefix, site);
        await publisher.set(names.heartbeatKey, bytes, 'PX', 15_000);
        await publisher.spublish(names.heartbeatChannel, bytes);
      };
      const heard = new Map<number, Buffer[]>(sites.map((site) => [site, []]));
      for (const site of sites) await publishHeartbeat(site, heartbeat(site));
      for (const site of sites) expect((await feed.watchHeartbeat(site, (b) => heard.get(site)!.push(b)))?.bytes).toEqual(heartbeat(site));
      const next = sites.map((site) => heartbeat(site, { trouble: 'matomo_error', data_age_ms: site }));
      for (const [i, site] of sites.entries()) await publishHeartbeat(site, next[i]!);
      for (const [i, site] of sites.entries())
        await waitFor(() => heard.get(site)!.some((b) => b.equals(next[i]!)), `site ${site}'s heartbeat`, 10_000);
    } finally {
      await feed.close();
      await clients.close();
    }
  });

  it('delivers every site, healing a lost message by the seq check', async () => {
    const prefix = uniquePrefix('cluster-feed');
    for (const site of sites) await publish(prefix, site, 1);
    const config = loadGatewayConfig(
      {
        PORT: '0',
        HOST: '127.0.0.1',
        ...cluster.env,
        REDIS_PREFIX: prefix,
        MATOMO_SITE_IDS: sites.join(','),
        VALID_TOKENS: TOKEN,
        DASHBOARD_DIR: 'off',
        REDIS_SEQ_CHECK_INTERVAL: '200',
      },
      { dotenv: false },
    );
    const g = await startGateway(config);
    try {
      await waitFor(() => g.gateway.isReady(), 'ready', 15_000);
      const clients = sites.map((site) => TestClient.connect(`${g.url}?token=${TOKEN}&site=${site}`));
      try {
        await Promise.all(clients.map((c) => c.nextMessages(1)));
        const next = await Promise.all(sites.map((site) => publish(prefix, site, 2)));
        for (const [i, c] of clients.entries()) expect((await c.nextMessages(2))[1]).toBe(next[i]!.toString());
        const lost = await publish(prefix, 3, 3, { silently: true });
        expect((await clients[2]!.nextMessages(3, 5000))[2]).toBe(lost.toString());
        expect(clients.map((c) => c.closeCode)).toEqual(sites.map(() => undefined));
      } finally {
        for (const c of clients) c.ws.terminate();
      }
    } finally {
      await g.stop();
    }
  });
});
