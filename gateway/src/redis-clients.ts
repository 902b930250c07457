import Redis from 'ioredis';
import { redisRetryDelay } from '@matomo-live/shared';

export interface GatewayRedis {
  /** Connection for SUBSCRIBE only. */
  subscriber: Redis;
  /** Connection for other commands. */
  command: Redis;
  /** Drops the subscriber, then QUITs the command connection (disconnects it if QUIT fails). */
  close(): Promise<void>;
}

/**
 * The gateway's two Redis connections. Commands never fail for being offline
 * (maxRetriesPerRequest null): the feed waits for Redis instead, and reports
 * not ready meanwhile. Reconnects back off up to 2 s.
 */
export function createRedisClients(url: string, connectionName = 'matomo-live-gateway'): GatewayRedis {
  const options = {
    maxRetriesPerRequest: null,
    retryStrategy: redisRetryDelay,
    connectionName,
  };
  const subscriber = new Redis(url, options);
  const command = new Redis(url, options);
  return {
    subscriber,
    command,
    async close() {
      subscriber.disconnect();
      await command.quit().catch(() => command.disconnect());
    },
  };
}
