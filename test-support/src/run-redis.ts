/**
 * The one Redis of a jest run, found or started by the run's global setup
 * (jest.config.js) and stopped by its global teardown, so test files share
 * it instead of each starting their own:
 *
 *   1. REDIS_URL, when set: used as it is, nothing started;
 *   2. else a testcontainers Redis (REDIS_IMAGE, default redis:7) where a
 *      Docker engine can run that image — no engine, or an image that cannot
 *      be pulled, falls through to 3;
 *   3. else `redis-server` from PATH on a free loopback port;
 *   4. else the run stops at once with one error naming these three options.
 *
 * The URL reaches the test files (jest workers inherit the environment the
 * global setup leaves) as RUN_REDIS_URL_VARIABLE; testRedisUrl() reads it.
 * jest loads global setup modules with Node's own resolution, outside the
 * test environment: @matomo-live/redis-ha (the launcher) comes from its
 * dist/, which jest-global-setup.ts brings up to date first.
 */
import Redis from 'ioredis';
import { hasRedisServerBinary, startRedisServer } from '@matomo-live/redis-ha';

/** Where the global setup leaves the run's Redis URL for the test files. */
export const RUN_REDIS_URL_VARIABLE = 'MATOMO_LIVE_TEST_REDIS_URL';

export const HOW_TO_GET_REDIS =
  'The tests need a Redis, and none could be found or started. Any one of these works: ' +
  '(1) REDIS_URL=redis://HOST:PORT to use a running Redis (tests use their own key prefixes); ' +
  '(2) a Docker engine that can run REDIS_IMAGE (default redis:7), so testcontainers starts one; ' +
  '(3) redis-server on PATH (Debian/Ubuntu: apt-get install redis-server), so the run starts its own';

/** Long enough for a first pull of redis:7 on a slow link; a stuck engine falls through after it. */
const CONTAINER_START_TIMEOUT_MS = 120_000;

export interface RunRedis {
  url: string;
  /** What it is, for the one line the setup prints. */
  description: string;
  stop(): Promise<void>;
}

type Log = (line: string) => void;

/** Finds or starts the run's Redis in the order above; throws HOW_TO_GET_REDIS (with each option's failure) when none works. */
export async function startRunRedis(env: NodeJS.ProcessEnv = process.env, log: Log = defaultLog): Promise<RunRedis> {
  if (env.REDIS_URL) {
    return { url: env.REDIS_URL, description: `REDIS_URL ${redactedUrl(env.REDIS_URL)}`, stop: async () => undefined };
  }
  const failures: string[] = ['(1) REDIS_URL is not set'];
  try {
    const container = await startContainer(env.REDIS_IMAGE || 'redis:7');
    try {
      await answersPing(container.url);
    } catch (error) {
      await container.stop();
      throw error;
    }
    return container;
  } catch (error) {
    const reason = `(2) testcontainers: ${firstLine(error)}`;
    failures.push(reason);
    log(`test Redis: ${reason}; trying redis-server from PATH`);
  }
  if (hasRedisServerBinary()) return startFromPath();
  failures.push('(3) redis-server is not on PATH');
  throw new Error(`${HOW_TO_GET_REDIS}.\nWhat was tried: ${failures.join('; ')}.`);
}

async function startContainer(image: string): Promise<RunRedis> {
  const { GenericContainer, Wait } = await import('testcontainers');
  // The image's own command: the official image's entrypoint turns protected mode off (connections come
  // from Docker's bridge, not loopback), and stand-ins do the same in their command; replacing it would not.
  const starting = new GenericContainer(image)
    .withExposedPorts(6379)
    .withWaitStrategy(Wait.forLogMessage(/Ready to accept connections/))
    .start();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${image} did not start within ${CONTAINER_START_TIMEOUT_MS / 1000} s`)),
      CONTAINER_START_TIMEOUT_MS,
    );
  });
  try {
    const container = await Promise.race([starting, timeout]);
    return {
      url: `redis://${container.getHost()}:${container.getMappedPort(6379)}`,
      description: `testcontainers ${image}`,
      stop: async () => {
        await container.stop({ remove: true, removeVolumes: true });
      },
    };
  } catch (error) {
    // A container that comes up after the timeout must not outlive the run.
    starting
      .then(
        (late) => late.stop({ remove: true }),
        () => undefined,
      )
      .catch(() => undefined);
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

async function startFromPath(): Promise<RunRedis> {
  const server = await startRedisServer({ label: 'test-run', readyTimeoutMs: 20_000 });
  return { url: server.url, description: 'redis-server from PATH', stop: () => server.kill() };
}

/** Resolves once `url` answers PING; rejects with why not (refused, protected mode, …) within a few seconds. */
async function answersPing(url: string): Promise<void> {
  const client = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
    connectTimeout: 5000,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    throw new Error(`it started but does not answer at ${url}: ${firstLine(error)}`, { cause: error });
  } finally {
    client.disconnect();
  }
}

function redactedUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).trim().split('\n')[0]!;
}

function defaultLog(line: string): void {
  process.stderr.write(`${line}\n`);
}
