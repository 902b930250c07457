/**
 * Redis Sentinel and Cluster topologies for tests (@matomo-live/redis-ha, a
 * built tool so the benchmark can use them too), and connection settings.
 */
import type { RedisConnectionConfig } from '@matomo-live/shared';

export * from '@matomo-live/redis-ha';

/** The connection settings of one Redis at `url` (what REDIS_URL gives). */
export function singleNode(url: string): RedisConnectionConfig {
  return { mode: 'single', url, username: undefined, password: undefined };
}
