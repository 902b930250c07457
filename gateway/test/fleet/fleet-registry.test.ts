import type { Cluster } from 'ioredis';
import { parseReconnectHint } from '@matomo-live/protocol';
import { createRedisClient, type RedisClient } from '@matomo-live/shared';
import { gatewayConfigFrom, MemorySnapshots, startGateway } from '@matomo-live/test-support/gateway';
import { silentLogger } from '@matomo-live/test-support/logger';
import { redisScope, uniquePrefix, type RedisScope } from '@matomo-live/test-support/redis';
import { describeWithRedisHa, startCluster, stopAllRedisProcesses, type TestCluster } from '@matomo-live/test-support/redis-ha';
import { TestClient } from '@matomo-live/test-support/ws-client';
import WebSocket from 'ws';
import { fleetKey, parseFleetEntries, RedisFleetRegistry } from '../../src/fleet/fleet-registry';

/** The HTTP status of a WebSocket upgrade: 101, or the refusal's. */
function upgradeStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('open', () => {
      ws.terminate();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('error', (error) => reject(error));
  });
}

const describeCluster = describeWithRedisHa('the Redis Cluster case of gateway/test/fleet/fleet-registry.test.ts');

/** The registry's behaviour on any connection: entries, freshness by Redis's clock, pruning, leaving. */
async function exerciseRegistry(redis: RedisClient, prefix: string): Promise<void> {
  const a = new RedisFleetRegistry(redis, prefix, 5000, 'gw-a');
  const b = new RedisFleetRegistry(redis, prefix, 5000, 'gw-b');
  await a.report({ connections: 10, draining: false, inFlight: 0 });
  const seen = await b.report({ connections: 3, draining: true, inFlight: 2 });
  expect(seen.sort((x, y) => x.id.localeCompare(y.id))).toEqual([
    { id: 'gw-a', connections: 10, draining: false, inFlight: 0 },
    { id: 'gw-b', connections: 3, draining: true, inFlight: 2 },
  ]);
  // A killed gateway's entry: stamped long ago (by Redis's clock), pruned by the next report of anyone.
  await redis.hset(fleetKey(prefix), 'gw-dead', '1000 500 0 0');
  expect((await a.report({ connections: 11, draining: false, inFlight: 0 })).map((m) => m.id).sort()).toEqual(['gw-a', 'gw-b']);
  expect(await redis.hexists(fleetKey(prefix), 'gw-dead')).toBe(0);
  // The whole key goes away by itself once every gateway is gone.
  const ttl = await redis.pttl(fleetKey(prefix));
  expect(ttl).toBeGreaterThan(40_000);
  expect(ttl).toBeLessThanOrEqual(50_000);
  await b.leave();
  expect((await a.report({ connections: 11, draining: false, inFlight: 0 })).map((m) => m.id)).toEqual(['gw-a']);
  await a.leave();
}

describe('RedisFleetRegistry on one Redis', () => {
  let scope: RedisScope;
  beforeAll(async () => {
    scope = await redisScope('fleet');
  });
  afterAll(async () => {
    await scope.command.del(fleetKey(scope.prefix));
    await scope.close();
  });

  it('shares entries stamped by the Redis clock, prunes stale ones, and forgets a gateway that leaves', async () => {
    await exerciseRegistry(scope.command, scope.prefix);
  });

  it('skips malformed values', () => {
    expect(parseFleetEntries(['a', '1 2 0 0', 'b', 'junk', 'c', '1 -3 0 0', 'd', '5 7 1 4'])).toEqual([
      { id: 'a', connections: 2, draining: false, inFlight: 0 },
      { id: 'd', connections: 7, draining: true, inFlight: 4 },
    ]);
  });

  it('two gateways: the full one moves its oldest clients (1001 + hint), refusing upgrades (503) while well above its share', async () => {
    const env = {
      PORT: '0',
      HOST: '127.0.0.1',
      VALID_TOKENS: 'tok',
      DASHBOARD_DIR: 'off',
      REBALANCE_RATE: '10',
      REBALANCE_MARGIN: '10',
      REBALANCE_MIN_EXCESS: '0',
    };
    const feed = new MemorySnapshots();
    const day = {
      visits: 1,
      time_spent: '00:01:00',
      date: '2026-11-22',
      time_spent_seconds: 60,
      actions: 1,
      unique_visitors: 1,
      bounce_count: 0,
    };
    await feed.publishContent(
      1,
      { visits_live: [], summary: { today: day, yesterday: day, day_before: day }, counters: null, site: 1, timezone: 'UTC' },
      7,
    );
    const prefix = uniquePrefix('fleet-gw');
    const full = await startGateway(gatewayConfigFrom(env), { feed, fleet: new RedisFleetRegistry(scope.command, prefix, 5000, 'full') });
    const empty = await startGateway(gatewayConfigFrom(env), { feed, fleet: new RedisFleetRegistry(scope.command, prefix, 5000, 'empty') });
    const clients = Array.from({ length: 40 }, () => TestClient.connect(`${full.url}?token=tok`));
    const round = async () => {
      await empty.gateway.rebalancer!.tick();
      await full.gateway.rebalancer!.tick();
    };
    try {
      await Promise.all(clients.map((c) => c.nextMessages(1)));
      // The first round only learns the fleet's total (a rebalancer acts on a steady fleet only).
      await round();
      expect((await full.gateway.metrics.rebalanceShed.get()).values[0]?.value ?? 0).toBe(0);
      // Then 10 % a round: 4 of the oldest go; at 36 of a fair 20 it refuses newcomers, NGINX sends them on.
      await round();
      await Promise.all(clients.slice(0, 4).map((c) => c.until(() => c.closeCode !== undefined, 'the shed client to be closed')));
      expect(full.gateway.rebalancer!.refusing).toBe(true);
      expect(await upgradeStatus(`${full.url}?token=tok`)).toBe(503);
      expect(await upgradeStatus(`${empty.url}?token=tok`)).toBe(101);
      // Rounds until it stops at 21 (fair 20 + half the margin): 19 of the oldest moved, the newest 21 kept.
      for (let i = 0; i < 10 && full.gateway.rebalancer!.shedding; i++) await round();
      expect(full.gateway.rebalancer!.shedding).toBe(false);
      expect((await full.gateway.metrics.rebalanceShed.get()).values[0]?.value).toBe(19);
      const closed = clients.slice(0, 19);
      await Promise.all(closed.map((c) => c.until(() => c.closeCode !== undefined, 'the shed client to be closed')));
      for (const c of closed) {
        expect(c.closeCode).toBe(1001);
        const hint = parseReconnectHint(c.closeReason);
        expect(hint).toMatchObject({ cause: 'rebalance' });
        expect(hint!.retryAfterMs).toBeLessThan(1000);
      }
      expect(clients.slice(19).map((c) => c.closeCode)).toEqual(Array(21).fill(undefined));
      expect(await upgradeStatus(`${full.url}?token=tok`)).toBe(101);
    } finally {
      for (const c of clients) c.ws.terminate();
      await full.stop();
      await empty.stop();
      await scope.command.del(fleetKey(prefix));
    }
  });
});

describeCluster('RedisFleetRegistry in a Redis Cluster (one key with a hash tag of its own)', () => {
  let cluster: TestCluster;
  let client: Cluster;
  beforeAll(async () => {
    cluster = await startCluster({ create: 'commands' });
    client = createRedisClient(cluster.connection, 'gateway-command', { logger: silentLogger }) as Cluster;
  }, 60_000);
  afterAll(async () => {
    client?.disconnect();
    await cluster?.stop();
    await stopAllRedisProcesses();
  });

  it('works the same', async () => {
    await exerciseRegistry(client, uniquePrefix('fleet-cluster'));
  });
});
