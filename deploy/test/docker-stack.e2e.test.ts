/**
 * The Docker front door, for real: both images built from the repository,
 * `docker compose --profile demo up --scale gateway=3` (redis, poller, three
 * gateways, nginx, the Matomo simulator), 36 `ws` screens through nginx.
 *
 * Needs a Docker engine (CI starts one with ../shared/tools/docker-offline.sh
 * and exports NODE_IMAGE / REDIS_IMAGE / NGINX_IMAGE / DOCKER_BUILD_NETWORK);
 * without one it is skipped, loudly. The tests run in order on one stack.
 */
import { randomBytes } from 'node:crypto';
import { freePort } from '@matomo-live/test-support/net';
import { buildImage, ComposeProject, detectDocker, httpInContainer, run, type BuiltImage } from './docker-cli';
import { Screen, waitFor } from './screen-fleet';

const docker = detectDocker();
if (!docker.ok) {
  console.warn(
    `\n*** SKIPPED deploy/test/docker-stack.test.ts: ${docker.reason}.\n` +
      '*** The Docker images, compose stack and nginx config are NOT tested on this machine.\n' +
      '*** Start an engine (CI: source <(../shared/tools/docker-offline.sh)) to run them.\n',
  );
}
const describeWithDocker = docker.ok ? describe : describe.skip;
if (!docker.ok && process.env.CI === 'true') {
  // Skipping is for developer machines; in CI a missing engine is a broken CI host.
  test('CI has a Docker engine for the compose stack test', () => {
    throw new Error(`CI=true but ${docker.reason}; .ci/run starts one with ../shared/tools/docker-offline.sh`);
  });
}

const SCREENS_PER_URL_FORM = 12;
const GATEWAYS = 3;
const MINUTE = 60_000;

describeWithDocker('docker compose stack: redis, poller, 3 gateways behind nginx, simulator', () => {
  const suffix = randomBytes(4).toString('hex');
  const clientToken = `e2e-client-${randomBytes(12).toString('hex')}`;
  const matomoToken = `e2e-matomo-${randomBytes(12).toString('hex')}`;
  const images = { poller: 'matomo-live/poller:e2e', gateway: 'matomo-live/gateway:e2e' };
  const screens: Screen[] = [];
  let stack: ComposeProject;
  let httpPort: number;
  let stackIsDown = false;
  let changeCount = 0;
  /** The gateway container the kill test killed. */
  let killedGateway: string | undefined;

  const containerOf = async (service: string): Promise<string> => {
    const [id] = await stack.containerIds(service);
    if (!id) throw new Error(`no running ${service} container`);
    return id;
  };

  /** A new visit in the simulator; the poller's next tick publishes it. Returns its marker city. */
  const triggerChange = async (): Promise<string> => {
    const city = `E2E-${suffix}-${++changeCount}`;
    await httpInContainer(await containerOf('matomo-sim'), 'http://127.0.0.1:8090/_sim/visits', {
      method: 'POST',
      body: { city, latitude: 48.85, longitude: 2.35 },
    });
    return city;
  };

  const everyScreenSees = (city: string, timeoutMs = 2 * MINUTE): Promise<void> =>
    waitFor(() => screens.every((screen) => screen.sawCity(city)), `every screen to receive the visit from ${city}`, timeoutMs);

  /** Open WebSocket connections per gateway container, from each one's /metrics. */
  const connectionsPerGateway = async (): Promise<Map<string, number>> => {
    const counts = new Map<string, number>();
    for (const id of await stack.containerIds('gateway')) {
      const metrics = await httpInContainer(id, 'http://127.0.0.1:8080/metrics');
      const open = metrics
        .split('\n')
        .filter((line) => line.startsWith('matomo_live_gateway_connections'))
        .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
      counts.set(id, open);
    }
    return counts;
  };

  beforeAll(async () => {
    httpPort = await freePort();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      HTTP_PORT: String(httpPort),
      POLLER_IMAGE: images.poller,
      GATEWAY_IMAGE: images.gateway,
      VALID_TOKENS: clientToken,
      MATOMO_URL: 'http://matomo-sim:8090/',
      MATOMO_TOKEN: matomoToken,
      // Only the visits this test posts change the snapshot.
      SIM_VISIT_EVERY_MS: '0',
      FETCH_INTERVAL: '500',
      LOG_LEVEL: 'info',
    };
    const built: BuiltImage[] = [];
    // The gateway first: the poller image reuses its cached build stage.
    built.push(await buildImage('Dockerfile.gateway', images.gateway, env));
    built.push(await buildImage('Dockerfile.poller', images.poller, env));

    console.log(built.map((b) => `${b.tag}: built in ${b.seconds.toFixed(0)} s, ${b.megabytes.toFixed(0)} MB`).join('\n'));

    stack = new ComposeProject(docker.ok ? docker.compose : [], `mle2e${suffix}`, env);
    try {
      await stack.compose(['up', '-d', '--no-build', '--scale', `gateway=${GATEWAYS}`], 10 * MINUTE);
    } catch (error) {
      const logs = await stack.compose(['logs', '--no-color', '--tail', '40']).catch((e: Error) => ({ stdout: e.message }));
      throw new Error(`${(error as Error).message}\n--- compose logs ---\n${logs.stdout}`, { cause: error });
    }
  }, 25 * MINUTE);

  afterAll(async () => {
    for (const screen of screens) screen.terminate();
    if (stack && !stackIsDown) await stack.compose(['down', '-v', '--remove-orphans', '-t', '5'], 3 * MINUTE);
  }, 4 * MINUTE);

  test('images run as uid 1000 with a node HEALTHCHECK and an exec-form CMD', async () => {
    for (const [image, cmd] of [
      [images.gateway, 'gateway/dist/main.js'],
      [images.poller, 'poller/dist/main.js'],
    ] as const) {
      const { stdout } = await run('docker', ['image', 'inspect', '--format', '{{json .Config}}', image]);
      const config = JSON.parse(stdout) as {
        User: string;
        Healthcheck?: { Test: string[] };
        Cmd: string[];
        Labels: Record<string, string>;
      };
      expect(config.User).toBe('1000:1000');
      expect(config.Healthcheck?.Test.slice(0, 2)).toEqual(['CMD', 'node']);
      expect(config.Cmd).toEqual(['node', cmd]);
      expect(config.Labels['org.opencontainers.image.title']).toMatch(/matomo-live/);
    }
  });

  test('every container runs with a read-only root filesystem, no capabilities beyond what it needs', async () => {
    const ids = await stack.containerIds();
    expect(ids.length).toBe(GATEWAYS + 4); // + redis, poller, nginx, matomo-sim
    const { stdout } = await run('docker', ['inspect', '--format', '{{.HostConfig.ReadonlyRootfs}} {{json .HostConfig.CapDrop}}', ...ids]);
    for (const line of stdout.trim().split('\n')) expect(line).toBe('true ["ALL"]');
  });

  test('nginx answers /healthz itself and keeps /metrics internal', async () => {
    const health = await fetch(`http://127.0.0.1:${httpPort}/healthz`);
    expect(health.status).toBe(200);
    const metrics = await fetch(`http://127.0.0.1:${httpPort}/metrics`);
    expect(metrics.status).toBe(404);
  });

  test(
    '36 screens through nginx get the current snapshot at once, then every change',
    async () => {
      const base = `ws://127.0.0.1:${httpPort}`;
      for (let i = 0; i < SCREENS_PER_URL_FORM; i++) {
        screens.push(new Screen(`root-${i}`, { url: `${base}/?token=${clientToken}` }));
        screens.push(new Screen(`ws-${i}`, { url: `${base}/ws?token=${clientToken}` }));
        screens.push(new Screen(`subprotocol-${i}`, { url: `${base}/ws/`, subprotocolToken: clientToken }));
      }
      await Promise.all(screens.map((screen) => screen.connect()));
      expect(screens.filter((screen) => !screen.open).map((screen) => screen.name)).toEqual([]);
      await waitFor(() => screens.every((screen) => screen.snapshots.length > 0), 'the first snapshot on every screen', 2 * MINUTE);

      for (let change = 0; change < 3; change++) await everyScreenSees(await triggerChange());

      for (const screen of screens) {
        const seqs = screen.snapshots.map((snapshot) => snapshot.seq);
        expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
        expect(new Set(seqs).size).toBe(seqs.length);
        expect(screen.snapshots.every((snapshot) => snapshot.site === 1)).toBe(true);
      }
    },
    6 * MINUTE,
  );

  test('a wrong token is refused with 4001 through nginx and receives nothing', async () => {
    const intruder = new Screen('intruder', { url: `ws://127.0.0.1:${httpPort}/?token=not-${clientToken}` });
    await intruder.connect();
    await waitFor(() => intruder.closeCodes.length > 0, 'the intruder to be closed');
    expect(intruder.closeCodes).toEqual([4001]);
    expect(intruder.snapshots).toEqual([]);
  });

  test(
    'killing one gateway drops only its screens; they reconnect through nginx and get the current snapshot at once',
    async () => {
      let counts = new Map<string, number>();
      await waitFor(async () => {
        counts = await connectionsPerGateway();
        return [...counts.values()].reduce((a, b) => a + b, 0) === screens.length;
      }, `the gateways to report ${screens.length} connections`);
      expect(counts.size).toBe(GATEWAYS);
      const [victim, victimConnections] = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]!;
      expect(victimConnections).toBeGreaterThan(0);
      const seqBeforeKill = Math.max(...screens.map((screen) => screen.latest!.seq));

      killedGateway = victim;
      await run('docker', ['kill', victim]);
      await waitFor(() => screens.filter((screen) => !screen.open).length >= victimConnections, `${victimConnections} screens to drop`);
      const dropped = screens.filter((screen) => !screen.open);
      const survivors = screens.filter((screen) => screen.open);
      expect(dropped.length).toBe(victimConnections);
      expect(survivors.every((screen) => screen.connectionCount === 1 && screen.closeCodes.length === 0)).toBe(true);

      await Promise.all(dropped.map((screen) => screen.connect()));
      expect(dropped.filter((screen) => !screen.open).map((screen) => screen.name)).toEqual([]);
      await waitFor(() => dropped.every((screen) => screen.latest?.connection === 1), 'the current snapshot on every reconnected screen');
      for (const screen of dropped) expect(screen.latest!.seq).toBeGreaterThanOrEqual(seqBeforeKill);

      await everyScreenSees(await triggerChange());
      expect(survivors.every((screen) => screen.connectionCount === 1 && screen.open)).toBe(true);
    },
    5 * MINUTE,
  );

  test(
    'nginx follows the replicas by itself: the killed gateway started again gets new screens (least_conn, no manual reload)',
    async () => {
      // Started again whether or not its restart policy already did.
      await stack.compose(['up', '-d', '--no-build', '--no-recreate', '--scale', `gateway=${GATEWAYS}`], 3 * MINUTE);
      const returned = killedGateway as string;
      await waitFor(
        async () =>
          (await stack.containerIds('gateway')).includes(returned) &&
          (await stack.health('gateway')).every((status) => status === 'healthy'),
        'the killed gateway to be back and healthy',
        2 * MINUTE,
        500,
      );
      // follow-replicas.sh reloads nginx once the replica is in Docker's DNS answer.
      const { stdout: address } = await run('docker', [
        'inspect',
        '--format',
        '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}',
        returned,
      ]);
      const nginxLogs = async () => {
        const { stdout, stderr } = await stack.compose(['logs', '--no-color', 'nginx']);
        return stdout + stderr;
      };
      await waitFor(
        async () =>
          new RegExp(`follow-replicas: gateway is now \\[[^\\]]*\\b${address.trim().replace(/\./g, '\\.')}\\b`).test(await nginxLogs()),
        `nginx to reload with ${address.trim()} among the replicas`,
        MINUTE,
        500,
      );
      const base = `ws://127.0.0.1:${httpPort}`;
      const newcomers = Array.from(
        { length: 2 * GATEWAYS },
        (_, i) => new Screen(`newcomer-${i}`, { url: `${base}/?token=${clientToken}` }),
      );
      screens.push(...newcomers);
      for (const screen of newcomers) await screen.connect();
      // It had no connection left, so least_conn gives it new ones, once nginx knows it again.
      expect((await connectionsPerGateway()).get(returned)).toBeGreaterThan(0);
      expect(newcomers.every((screen) => screen.open)).toBe(true);
      await waitFor(() => newcomers.every((screen) => screen.snapshots.length > 0), 'the snapshot on every new screen');
    },
    6 * MINUTE,
  );

  test(
    'restarting redis: every screen stays connected and gets the next change',
    async () => {
      await run('docker', ['restart', '-t', '2', await containerOf('redis')]);
      await waitFor(
        async () => (await stack.health('redis')).every((status) => status === 'healthy'),
        'redis to be healthy again',
        2 * MINUTE,
        500,
      );
      await everyScreenSees(await triggerChange(), 3 * MINUTE);
      expect(screens.filter((screen) => !screen.open).map((screen) => screen.name)).toEqual([]);
    },
    6 * MINUTE,
  );

  test('no token reaches the nginx or gateway logs', async () => {
    const logs = async () => {
      const { stdout, stderr } = await stack.compose(['logs', '--no-color', 'nginx', 'gateway', 'poller']);
      return stdout + stderr;
    };
    // nginx writes a WebSocket's access-log line when the connection ends: end one
    // that carried its token as ?token=, so the check below sees such a line
    // whichever gateway the kill test happened to pick.
    screens.find((screen) => screen.name.startsWith('ws-'))!.terminate();
    let text = '';
    await waitFor(
      async () => /"GET \/ws HTTP\/1\.1" 101/.test((text = await logs())),
      'the access-log line of a closed /ws?token= connection',
    );
    expect(text).not.toContain(clientToken);
    expect(text).not.toContain(matomoToken);
  });

  test(
    'down -v leaves no container, network or volume',
    async () => {
      for (const screen of screens) screen.terminate();
      await stack.compose(['down', '-v', '--remove-orphans', '-t', '5'], 3 * MINUTE);
      stackIsDown = true;
      expect(await stack.leftovers()).toEqual({ containers: [], networks: [], volumes: [] });
    },
    4 * MINUTE,
  );
});
