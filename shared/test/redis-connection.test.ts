import type { Cluster, RedisOptions } from 'ioredis';
import type Redis from 'ioredis';
import { closeRedisClient, createRedisClient, logRedisErrors, publishCommandOf, type RedisConnectionConfig } from '@matomo-live/shared';
import { capturedLogger, silentLogger } from '@matomo-live/test-support/logger';
import { freePort } from '@matomo-live/test-support/net';
import { spawnRedisServer, type SpawnedRedis } from '@matomo-live/test-support/redis';
import { singleNode } from '@matomo-live/test-support/redis-ha';
import { waitFor } from '@matomo-live/test-support/wait-for';

const sentinel: RedisConnectionConfig = {
  mode: 'sentinel',
  sentinels: [{ host: '127.0.0.1', port: 1 }],
  masterName: 'live',
  username: 'app',
  password: 'data-pw',
  sentinelPassword: 'sentinel-pw',
  tls: true,
};
const cluster: RedisConnectionConfig = {
  mode: 'cluster',
  nodes: [{ host: '127.0.0.1', port: 1 }],
  username: undefined,
  password: 'pw',
  tls: true,
};

/** A client's options, built but disconnected at once (the addresses are unreachable on purpose). */
function optionsOf(config: RedisConnectionConfig, role: Parameters<typeof createRedisClient>[1]) {
  const client = createRedisClient(config, role, { logger: silentLogger });
  client.disconnect();
  return (client as unknown as { options: RedisOptions & Record<string, unknown> }).options;
}

describe('createRedisClient: the options of each mode and role', () => {
  it('Sentinel: the master by name, both passwords, TLS to data nodes and sentinels, failover detection, RESP2', () => {
    expect(optionsOf(sentinel, 'gateway-command')).toMatchObject({
      sentinels: [{ host: '127.0.0.1', port: 1 }],
      name: 'live',
      role: 'master',
      username: 'app',
      password: 'data-pw',
      sentinelPassword: 'sentinel-pw',
      tls: {},
      enableTLSForSentinelMode: true,
      sentinelTLS: {},
      failoverDetector: true,
      sentinelCommandTimeout: 2000,
      protocol: 2,
      maxRetriesPerRequest: null,
      enableOfflineQueue: true,
      commandTimeout: 2000,
    });
  });

  it('Cluster: sharded subscribers only on the gateway subscriber, periodic slot refresh, TLS by host name', () => {
    const subscriber = optionsOf(cluster, 'gateway-subscriber') as unknown as Cluster['options'];
    expect(subscriber).toMatchObject({
      shardedSubscribers: true,
      slotsRefreshInterval: 5000,
      scaleReads: 'master',
      enableOfflineQueue: true,
    });
    expect(subscriber.redisOptions).toMatchObject({ password: 'pw', tls: {}, protocol: 2 });
    expect(subscriber.redisOptions).toMatchObject({ commandTimeout: 2000 });
    expect(typeof subscriber.dnsLookup).toBe('function');
    const poller = optionsOf(cluster, 'poller') as unknown as Cluster['options'];
    expect(poller).toMatchObject({ shardedSubscribers: false, enableOfflineQueue: false });
    expect(poller.redisOptions).toMatchObject({ commandTimeout: 2000, maxRetriesPerRequest: 1 });
  });

  it('publishes with SPUBLISH in a Cluster only', () => {
    expect([publishCommandOf('single'), publishCommandOf('sentinel'), publishCommandOf('cluster')]).toEqual([
      'PUBLISH',
      'PUBLISH',
      'SPUBLISH',
    ]);
  });
});

describe('createRedisClient: how the roles behave while Redis is away', () => {
  let redis: SpawnedRedis;
  beforeAll(async () => {
    redis = await spawnRedisServer();
  });
  afterAll(() => redis.stop());

  it('the poller connection fails fast; a gateway connection queues until its 2 s command timeout', async () => {
    const port = await freePort();
    const down = singleNode(`redis://127.0.0.1:${port}`);
    const poller = createRedisClient(down, 'poller', { logger: silentLogger }) as Redis;
    const gateway = createRedisClient(down, 'gateway-command', { logger: silentLogger }) as Redis;
    try {
      let started = Date.now();
      await expect(poller.get('k')).rejects.toThrow(/Stream isn't writeable|enableOfflineQueue/);
      expect(Date.now() - started).toBeLessThan(1000);
      started = Date.now();
      await expect(gateway.ping()).rejects.toThrow(/Command timed out/);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
    } finally {
      poller.disconnect();
      gateway.disconnect();
    }
    const live = createRedisClient(singleNode(redis.url), 'gateway-command', { logger: silentLogger });
    expect(await live.ping()).toBe('PONG');
    expect(await live.client('GETNAME')).toBe('matomo-live-gateway-command');
    await closeRedisClient(live);
    await waitFor(() => live.status === 'end', 'the connection closed by QUIT');
  });
});

describe('logRedisErrors', () => {
  it('logs at warn with the error object, and a repeat within a minute only as a count on the next line', () => {
    const log = capturedLogger();
    const client = createRedisClient(singleNode('redis://127.0.0.1:1'), 'gateway-command', { logger: silentLogger });
    client.disconnect();
    client.removeAllListeners('error');
    let now = 0;
    logRedisErrors(client, log.logger, 'test-connection', () => now);
    const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    client.emit('error', refused());
    now = 1000;
    client.emit('error', refused());
    client.emit('error', new Error('another error'));
    now = 6000;
    client.emit('error', refused());
    now = 61_000;
    client.emit('error', refused());
    const lines = log.lines();
    expect(lines.map((l) => [l.level, l.msg, (l.err as { message: string }).message, l.repeatedSinceLastLine])).toEqual([
      [40, 'Redis error', 'connect ECONNREFUSED 127.0.0.1:1', undefined],
      [40, 'Redis error', 'another error', undefined],
      [40, 'Redis error', 'connect ECONNREFUSED 127.0.0.1:1', 2],
    ]);
    expect(lines[0]).toMatchObject({ connection: 'test-connection', err: { code: 'ECONNREFUSED' } });
    now = 70_000;
    client.emit('ready');
    expect(log.lines().slice(3)).toEqual([
      expect.objectContaining({ level: 30, msg: 'Redis connection back', connection: 'test-connection', errors: 5, downMs: 70_000 }),
    ]);
    client.emit('ready');
    expect(log.lines()).toHaveLength(4);
  });

  it('is attached by createRedisClient, so an unreachable Redis never crashes the process', async () => {
    const log = capturedLogger();
    const client = createRedisClient(singleNode(`redis://127.0.0.1:${await freePort()}`), 'gateway-command', { logger: log.logger });
    try {
      await waitFor(() => log.lines().some((l) => l.msg === 'Redis error' && l.level === 40), 'the logged connection error');
    } finally {
      client.disconnect();
    }
  });
});
