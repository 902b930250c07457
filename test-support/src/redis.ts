/**
 * Real Redis for tests. Never an in-process fake.
 *
 * - testRedisUrl(): the Redis of this jest run — REDIS_URL if set, else the one
 *   the run's global setup started (run-redis.ts: testcontainers where a
 *   Docker engine can run the image, else `redis-server` from PATH).
 *   Tests sharing it must use their own key prefix (uniquePrefix()).
 * - redisScope(): a fresh prefix on the shared server with a command
 *   connection, deleting the prefix's keys on close.
 * - spawnRedisServer(): a private `redis-server` (the harness's launcher) on a
 *   free loopback port that a test may stop and restart (Redis-outage tests).
 */
import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { freePort, hasRedisServerBinary, startRedisServer, type RedisProcess } from '@matomo-live/redis-ha';
import { redisKeyPattern } from '@matomo-live/shared';
import { HOW_TO_GET_REDIS, RUN_REDIS_URL_VARIABLE } from './run-redis';

/** REDIS_URL if set, else the Redis the run's global setup started; throws how to get one when neither is there. */
export async function testRedisUrl(): Promise<string> {
  const url = process.env.REDIS_URL || process.env[RUN_REDIS_URL_VARIABLE];
  if (!url) throw new Error(`${HOW_TO_GET_REDIS} (this jest run has no global setup: run it from the repository root)`);
  return url;
}

/** A key prefix no other test uses, so tests can share one Redis. */
export function uniquePrefix(label = 'test'): string {
  return `t-${label}-${randomBytes(4).toString('hex')}:`;
}

export interface RedisScope {
  url: string;
  prefix: string;
  /** A command connection (requests wait for a reconnect rather than fail). */
  command: Redis;
  /** Deletes every `prefix*` key and disconnects. */
  close(): Promise<void>;
}

/** A test's own corner of the shared test Redis (or of `url`): a fresh prefix named after `label`, and a connection. */
export async function redisScope(label: string, url?: string): Promise<RedisScope> {
  const redisUrl = url ?? (await testRedisUrl());
  const prefix = uniquePrefix(label);
  const command = new Redis(redisUrl, { maxRetriesPerRequest: null });
  return {
    url: redisUrl,
    prefix,
    command,
    async close() {
      const keys = await command.keys(redisKeyPattern(prefix));
      if (keys.length > 0) await command.del(...keys);
      command.disconnect();
    },
  };
}

export { hasRedisServerBinary } from '@matomo-live/redis-ha';

export interface SpawnedRedis {
  url: string;
  port: number;
  /** Kill the server (SIGKILL: a crash; data is gone, as no persistence is configured). */
  stop(): Promise<void>;
  /** Start it again on the same port, empty. */
  start(): Promise<void>;
}

/** A private redis-server on a free loopback port; needs the redis-server binary. */
export async function spawnRedisServer(): Promise<SpawnedRedis> {
  if (!hasRedisServerBinary())
    throw new Error('redis-server is not on PATH: this test stops and restarts a Redis of its own (apt-get install redis-server)');
  const port = await freePort();
  let server: RedisProcess | undefined;
  const start = async (): Promise<void> => {
    server = await startRedisServer({ port, label: 'test-private' });
  };
  const stop = async (): Promise<void> => {
    await server?.kill();
  };
  await start();
  return { url: `redis://127.0.0.1:${port}`, port, stop, start };
}
