import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { redisNames } from '@matomo-live/shared';
import { startMatomoSim, type MatomoSim } from '@matomo-live/matomo-sim';
import { freePort } from '@matomo-live/test-support/net';
import { buildWorkspace, startService, type ServiceProcess } from '@matomo-live/test-support/processes';
import { spawnRedisServer } from '@matomo-live/test-support/redis';
import Redis from 'ioredis';
import { SIM_TOKEN, waitFor, watchRedis, type RedisWatch } from './support/harness';

const MAIN = join(__dirname, '..', 'dist', 'main.js');
// Only what the poller needs: no stray REDIS_URL or *_FILE from the test runner's environment.
const baseEnv = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' };

// CI runs `npm run build` first; building here keeps `npx jest poller` honest on its own.
beforeAll(() => buildWorkspace(join(__dirname, '..')), 120_000);

describe('node poller/dist/main.js', () => {
  it('exits 78 with one line per invalid variable, naming it, and no stack trace', () => {
    const run = spawnSync(process.execPath, [MAIN], {
      cwd: __dirname,
      env: { ...baseEnv, MATOMO_URL: 'ftp://x', FETCH_INTERVAL: '10ms', MATOMO_SITE_IDS: '1,x', REDIS_URL: 'redis://127.0.0.1:1' },
      encoding: 'utf8',
    });
    expect(run.status).toBe(78);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(4);
    for (const name of ['MATOMO_URL', 'MATOMO_TOKEN', 'FETCH_INTERVAL', 'MATOMO_SITE_IDS']) {
      expect(lines.filter((l) => l.includes(name))).toHaveLength(1);
    }
    expect(run.stderr).not.toMatch(/\bat .*\.js:\d+/);
  });

  it('exits 78 when REDIS_URL is missing', () => {
    const run = spawnSync(process.execPath, [MAIN], {
      cwd: __dirname,
      env: { ...baseEnv, MATOMO_URL: 'http://m/', MATOMO_TOKEN: 't' },
      encoding: 'utf8',
    });
    expect(run.status).toBe(78);
    expect(run.stderr.trim().split('\n')).toEqual([expect.stringContaining('REDIS_URL')]);
  });

  it('warns at start, without the token, when MATOMO_URL is plain http:// to another host', async () => {
    const poller = startService(
      MAIN,
      {
        ...baseEnv,
        MATOMO_URL: 'http://matomo.invalid/',
        MATOMO_TOKEN: 'poller-main-secret-token',
        REDIS_URL: 'redis://127.0.0.1:1',
        POLLER_HEALTH_PORT: '0',
      },
      { cwd: __dirname },
    );
    try {
      await poller.waitForOutput(/"level":40[^\n]*MATOMO_URL: plain http:\/\/ to matomo\.invalid[^\n]*use https/);
      expect(poller.output()).not.toContain('poller-main-secret-token');
    } finally {
      await poller.kill();
    }
  });

  it('keeps running when Redis is down at start and publishes once it comes up', async () => {
    const sim = await startMatomoSim({ token: SIM_TOKEN });
    const redis = await spawnRedisServer();
    await redis.stop();
    const poller = startService(
      MAIN,
      { ...baseEnv, MATOMO_URL: sim.url, MATOMO_TOKEN: SIM_TOKEN, REDIS_URL: redis.url, FETCH_INTERVAL: '200', POLLER_HEALTH_PORT: '0' },
      { cwd: __dirname },
    );
    const reader = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: null });
    try {
      // A refused connection is an 'error' event before any 'ready': the start-up wait must not treat it as fatal.
      await poller.waitForOutput(/ECONNREFUSED/);
      await redis.start();
      await reader.connect();
      await waitFor(
        async () => (await reader.exists(redisNames('matomo-live:', 1).snapshotKey)) === 1,
        'the first snapshot once Redis is up',
      );
      expect(poller.child.exitCode).toBeNull();
    } finally {
      reader.disconnect();
      await poller.kill();
      await redis.stop();
      await sim.close();
    }
  });

  describe('against the simulator and Redis', () => {
    let sim: MatomoSim;
    let watch: RedisWatch;
    let poller: ServiceProcess | undefined;
    beforeEach(async () => {
      sim = await startMatomoSim({ token: SIM_TOKEN });
      watch = await watchRedis([1]);
    });
    afterEach(async () => {
      await poller?.kill();
      poller = undefined;
      await sim.close();
      await watch.close();
    });

    it('publishes once, serves /healthz, and on SIGTERM releases its lease and exits 0, never logging the token', async () => {
      const healthPort = await freePort();
      poller = startService(
        MAIN,
        {
          ...baseEnv,
          MATOMO_URL: `${sim.url}index.php`,
          MATOMO_TOKEN: SIM_TOKEN,
          REDIS_URL: watch.url,
          REDIS_PREFIX: watch.prefix,
          FETCH_INTERVAL: '200',
          POLLER_HEALTH_PORT: String(healthPort),
          LOG_LEVEL: 'debug',
        },
        { cwd: __dirname },
      );
      await waitFor(() => watch.messages().length === 1, 'the first snapshot');
      await sim.waitForRequests(sim.stats().requests + 3);
      expect(watch.messages()).toHaveLength(1);
      expect(sim.stats().tokenInUrl).toBe(0);

      const health = await fetch(`http://127.0.0.1:${healthPort}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({
        running: true,
        healthy: true,
        sites: [{ siteId: 1, leader: true, timezone: 'Europe/Paris' }],
      });
      expect((await fetch(`http://127.0.0.1:${healthPort}/readyz`)).status).toBe(200);

      const leaseKey = redisNames(watch.prefix, 1).leaseKey;
      expect(await watch.command.exists(leaseKey)).toBe(1);
      poller.child.kill('SIGTERM');
      expect(await poller.exited).toBe(0);
      expect(await watch.command.exists(leaseKey)).toBe(0);
      expect(poller.output()).toContain('"msg":"published"');
      expect(poller.output()).not.toContain(SIM_TOKEN);
    });
  });
});
