/** What the harness can run on this machine: the installed redis-server and redis-cli. */
import { spawnSync } from 'node:child_process';
import { redisServerMajorVersion } from './redis-server';

/** True when a redis-server binary is on PATH. */
export function hasRedisServerBinary(): boolean {
  return redisServerMajorVersion() !== undefined;
}

/**
 * Why the Sentinel/Cluster topologies cannot run here, or undefined when they
 * can: redis-server 7+ (sharded pub/sub) and redis-cli must be installed.
 */
export function redisHaUnavailable(): string | undefined {
  const major = redisServerMajorVersion();
  if (major === undefined) return 'redis-server is not installed (apt-get install redis-server; .ci/run does)';
  if (major < 7) return `redis-server ${major}.x is too old: sharded pub/sub needs Redis 7`;
  if (spawnSync('redis-cli', ['--version']).status !== 0) return 'redis-cli is not installed (it comes with redis-server / redis-tools)';
  return undefined;
}
