import { spawnSync } from 'node:child_process';
import { hasRedisServerBinary, redisHaUnavailable } from '../src/availability';
import { redisServerMajorVersion } from '../src/redis-server';

describe('availability', () => {
  it('reports the installed redis-server as `redis-server --version` does', () => {
    const run = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
    const installed = run.status === 0;
    expect(hasRedisServerBinary()).toBe(installed);
    if (!installed) {
      expect(redisServerMajorVersion()).toBeUndefined();
      expect(redisHaUnavailable()).toMatch(/redis-server is not installed/);
      return;
    }
    const major = Number(/v=(\d+)\./.exec(run.stdout)?.[1]);
    expect(redisServerMajorVersion()).toBe(major);
    const cli = spawnSync('redis-cli', ['--version']).status === 0;
    if (major >= 7 && cli) expect(redisHaUnavailable()).toBeUndefined();
    else expect(redisHaUnavailable()).toEqual(expect.any(String));
  });
});
