import { closeRedisClient, createRedisClient, publishCommandOf, type RedisClient, type RedisConnectionConfig } from '@matomo-live/shared';
import { createPoller, type Poller, type PollerOptions } from './poller';
import { RedisLeaseManager } from './redis-lease';
import { RedisSnapshotPublisher } from './redis-publisher';

export interface RedisPollerOptions extends Omit<PollerOptions, 'publisher' | 'leases'> {
  /** How to reach Redis (REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES). */
  redis: RedisConnectionConfig;
}

export interface RedisPoller {
  poller: Poller;
  /** The poller's own connection (its errors are logged at warn). */
  redis: RedisClient;
  leases: RedisLeaseManager;
  /** Closes the Redis connection (QUIT, else disconnect). Call after poller.stop(). */
  close(): Promise<void>;
}

/**
 * A poller wired to Redis as in the split deployment: its own connection,
 * leases per site (LEASE_TTL, REDIS_PREFIX) and the atomic publisher
 * (SPUBLISH in Cluster mode, PUBLISH otherwise). Not started.
 */
export function createRedisPoller({ redis: connection, ...options }: RedisPollerOptions): RedisPoller {
  const { leaseTtlMs, redisPrefix } = options.config;
  const redis = createRedisClient(connection, 'poller', { logger: options.logger, connectionName: 'matomo-live-poller' });
  const leases = new RedisLeaseManager(redis, leaseTtlMs, redisPrefix);
  const publisher = new RedisSnapshotPublisher(redis, redisPrefix, publishCommandOf(connection.mode));
  // With metrics, every lease and publish command reports to matomo_live_poller_redis_up.
  const track = <T extends object>(target: T): T => options.metrics?.trackRedis(target) ?? target;
  const poller = createPoller({ ...options, publisher: track(publisher), leases: track(leases) });
  return {
    poller,
    redis,
    leases,
    close: () => closeRedisClient(redis),
  };
}
