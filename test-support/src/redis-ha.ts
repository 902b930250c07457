/**
 * The harness (@matomo-live/redis-ha, a built package so the benchmark can
 * use it too: the redis-server launcher, Sentinel and Cluster topologies),
 * the suite guard for them, and connection settings.
 */
import type { RedisConnectionConfig } from '@matomo-live/shared';
import { redisHaUnavailable } from '@matomo-live/redis-ha';

export * from '@matomo-live/redis-ha';

/**
 * `describe` where Sentinel and Cluster topologies can run (redis-server 7
 * and redis-cli); else `describe.skip` after a loud `*** SKIPPED …` warning
 * naming `what` and the reason. `requiredInCi`: under CI=true a missing part
 * is a failing test instead (.ci/run installs them; a skip there is a broken
 * CI host).
 */
export function describeWithRedisHa(what: string, { requiredInCi = false }: { requiredInCi?: boolean } = {}): jest.Describe {
  const unavailable = redisHaUnavailable();
  if (!unavailable) return describe;
  console.warn(`\n*** SKIPPED ${what}: ${unavailable}\n`);
  if (requiredInCi && process.env.CI === 'true') {
    test('CI has redis-server 7 and redis-cli for the failover suites', () => {
      throw new Error(`CI=true but ${unavailable}; .ci/run installs redis-server and redis-tools`);
    });
  }
  return describe.skip;
}

/** The connection settings of one Redis at `url` (what REDIS_URL gives). */
export function singleNode(url: string): RedisConnectionConfig {
  return { mode: 'single', url, username: undefined, password: undefined };
}
