/**
 * The Sentinel compose override for real: both images, `docker compose -f
 * docker-compose.yml -f docker-compose.sentinel.yml --profile demo up` (a
 * master, a replica, three sentinels, the poller, two gateways, nginx, the
 * simulator) and screens through nginx. The Redis master container is
 * killed: every screen stays connected and gets the next change.
 *
 * Needs a Docker engine (CI: ../shared/tools/docker-offline.sh); skipped
 * loudly without one. Run it alone: it builds images and starts 11 containers.
 */
import { randomBytes } from 'node:crypto';
import { freePort } from '@matomo-live/test-support/net';
import { join } from 'node:path';
import { buildImage, ComposeProject, composeNofileLimit, detectDocker, removeImages, REPO_ROOT, run } from './docker-cli';
import { Screen, waitFor } from './screen-fleet';

const docker = detectDocker();
if (!docker.ok) {
  console.warn(
    `\n*** SKIPPED deploy/test/docker-sentinel.e2e.test.ts: ${docker.reason}; the Sentinel compose override is NOT tested here.\n`,
  );
}
const describeWithDocker = docker.ok ? describe : describe.skip;
if (!docker.ok && process.env.CI === 'true') {
  test('CI has a Docker engine for the Sentinel compose test', () => {
    throw new Error(`CI=true but ${docker.reason}; .ci/run starts one with ../shared/tools/docker-offline.sh`);
  });
}

const MINUTE = 60_000;
const SCREENS = 20;

describeWithDocker('docker compose with docker-compose.sentinel.yml: the Redis master container killed', () => {
  const suffix = randomBytes(4).toString('hex');
  const clientToken = `sentinel-client-${randomBytes(12).toString('hex')}`;
  // Tags of this run only, removed afterwards (their layers stay cached for the next build).
  const images = { poller: `matomo-live/poller:e2e-${suffix}`, gateway: `matomo-live/gateway:e2e-${suffix}` };
  const screens: Screen[] = [];
  let stack: ComposeProject;
  let httpPort: number;
  let changes = 0;

  const containerOf = (service: string): Promise<string> => stack.containerOf(service);

  const triggerChange = async (): Promise<string> => {
    const city = `Sentinel-${suffix}-${++changes}`;
    await stack.addSimVisit(city);
    return city;
  };

  const masterAsSentinelsSeeIt = async (): Promise<string> => {
    const { stdout } = await run('docker', [
      'exec',
      await containerOf('sentinel-1'),
      'redis-cli',
      '-p',
      '26379',
      'sentinel',
      'get-master-addr-by-name',
      'mymaster',
    ]);
    return stdout.split('\n')[0]!.trim();
  };

  beforeAll(async () => {
    httpPort = await freePort();
    // The runner's REDIS_URL (npm test's Redis) is not the stack's; NOFILE_LIMIT within what this Docker daemon allows.
    const { REDIS_URL: _runnerRedis, REDIS_SENTINELS: _s, REDIS_CLUSTER_NODES: _c, ...runnerEnv } = process.env;
    const env: NodeJS.ProcessEnv = {
      ...runnerEnv,
      NOFILE_LIMIT: composeNofileLimit(),
      HTTP_PORT: String(httpPort),
      POLLER_IMAGE: images.poller,
      GATEWAY_IMAGE: images.gateway,
      VALID_TOKENS: clientToken,
      MATOMO_TOKEN: `sentinel-matomo-${suffix}`,
      SIM_VISIT_EVERY_MS: '0',
      FETCH_INTERVAL: '500',
      LOG_LEVEL: 'info',
    };
    await buildImage('Dockerfile.gateway', images.gateway, env);
    await buildImage('Dockerfile.poller', images.poller, env);
    // .env.example as shipped (the demo profile, the simulator), the Sentinel override on top.
    stack = new ComposeProject(docker.ok ? docker.compose : [], `mlsentinel${suffix}`, env, {
      envFile: join(REPO_ROOT, '.env.example'),
      files: ['docker-compose.yml', 'docker-compose.sentinel.yml'],
    });
    await stack.up(['-d', '--no-build', '--scale', 'gateway=2'], 10 * MINUTE);
  }, 25 * MINUTE);

  afterAll(async () => {
    for (const screen of screens) screen.terminate();
    await stack?.compose(['down', '-v', '--remove-orphans', '-t', '5'], 3 * MINUTE);
    await removeImages(Object.values(images));
  }, 4 * MINUTE);

  test(
    'screens stay connected through the failover and get the next change',
    async () => {
      for (let i = 0; i < SCREENS; i++)
        screens.push(new Screen(`screen-${i}`, { url: `ws://127.0.0.1:${httpPort}/?token=${clientToken}` }));
      await Promise.all(screens.map((screen) => screen.connect()));
      await waitFor(() => screens.every((screen) => screen.snapshots.length > 0), 'the first snapshot on every screen', 2 * MINUTE);
      const before = await triggerChange();
      await waitFor(() => screens.every((screen) => screen.sawCity(before)), 'a change before the kill');
      expect(await masterAsSentinelsSeeIt()).toBe('redis');

      const killedAt = Date.now();
      await run('docker', ['kill', await containerOf('redis')]);
      await waitFor(
        async () => (await masterAsSentinelsSeeIt()) === 'redis-replica',
        'the sentinels to promote redis-replica',
        MINUTE,
        200,
      );
      const promotedAt = Date.now();
      const after = await triggerChange();
      await waitFor(() => screens.every((screen) => screen.sawCity(after)), 'the change after the failover on every screen', MINUTE, 100);
      console.log(
        `compose Sentinel: promoted ${promotedAt - killedAt} ms after docker kill; the next change reached all ${SCREENS} screens ${Date.now() - killedAt} ms after the kill`,
      );
      expect(screens.filter((screen) => !screen.open || screen.closeCodes.length > 0).map((screen) => screen.name)).toEqual([]);
      for (const screen of screens) {
        const seqs = screen.snapshots.map((snapshot) => snapshot.seq);
        expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
        expect(new Set(seqs).size).toBe(seqs.length);
      }
    },
    6 * MINUTE,
  );
});
