import Redis from 'ioredis';
import { redisRetryDelay } from '@matomo-live/shared';

/**
 * The poller's Redis connection. Offline, commands fail at once instead of
 * queueing (enableOfflineQueue false): a tick that cannot publish fails and
 * the next one publishes the then-current state, rather than a backlog of
 * stale snapshots replaying on reconnect. Reconnects back off up to 2 s.
 */
export function createPollerRedis(url: string, connectionName = 'matomo-live-poller'): Redis {
  return new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    retryStrategy: redisRetryDelay,
    connectionName,
  });
}
