import type Redis from 'ioredis';
import { createPoller, type Poller, type PollerOptions } from './poller';
import { createPollerRedis } from './redis-clients';
import { RedisLeaseManager } from './redis-lease';
import { RedisSnapshotPublisher } from './redis-publisher';

export interface RedisPollerOptions extends Omit<PollerOptions, 'publisher' | 'leases'> {
  redisUrl: string;
}

export interface RedisPoller {
  poller: Poller;
  /** The poller's own connection; the caller logs its errors (an 'error' listener is expected). */
  redis: Redis;
  leases: RedisLeaseManager;
  /** Closes the Redis connection (QUIT, else disconnect). Call after poller.stop(). */
  close(): Promise<void>;
}

/**
 * A poller wired to Redis as in the split deployment: its own connection,
 * leases per site (LEASE_TTL, REDIS_PREFIX) and the atomic publisher. Not started.
 */
export function createRedisPoller({ redisUrl, ...options }: RedisPollerOptions): RedisPoller {
  const { leaseTtlMs, redisPrefix } = options.config;
  const redis = createPollerRedis(redisUrl);
  const leases = new RedisLeaseManager(redis, leaseTtlMs, redisPrefix);
  const poller = createPoller({ ...options, publisher: new RedisSnapshotPublisher(redis, redisPrefix), leases });
  return {
    poller,
    redis,
    leases,
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
