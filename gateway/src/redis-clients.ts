import Redis from 'ioredis';

/**
 * The gateway's two Redis connections. Commands never fail for being offline
 * (maxRetriesPerRequest null): the feed waits for Redis instead, and reports
 * not ready meanwhile. Reconnects back off up to 2 s.
 */
export function createRedisClients(url: string, connectionName = 'matomo-live-gateway'): { subscriber: Redis; command: Redis } {
  const options = {
    maxRetriesPerRequest: null,
    retryStrategy: (attempt: number) => Math.min(100 * attempt, 2000),
    connectionName,
  };
  return { subscriber: new Redis(url, options), command: new Redis(url, options) };
}
