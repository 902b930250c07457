/**
 * Real Redis for tests. Never an in-process fake.
 *
 * - testRedisUrl(): the shared server — REDIS_URL if set, else a testcontainers
 *   Redis where a Docker engine runs, else a clear error saying how to get one.
 *   Tests sharing it must use their own key prefix (uniquePrefix()).
 * - redisScope(): a fresh prefix on the shared server with a command
 *   connection, deleting the prefix's keys on close.
 * - spawnRedisServer(): a private `redis-server` child process on a free
 *   loopback port that a test may stop and restart (Redis-outage tests).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { freePort } from './net';
import { startProcess, type ServiceProcess } from './processes';

let containerUrl: Promise<string> | undefined;

const HOW_TO =
  'No Redis for the tests: set REDIS_URL=redis://127.0.0.1:6379 (e.g. `apt-get install redis-server` and start it), ' +
  'or run a Docker engine so testcontainers can start one. .ci/run does the former.';

export async function testRedisUrl(): Promise<string> {
  if (process.env.REDIS_URL) return process.env.REDIS_URL;
  containerUrl ??= startContainer();
  return containerUrl;
}

async function startContainer(): Promise<string> {
  let GenericContainer: typeof import('testcontainers').GenericContainer;
  try {
    ({ GenericContainer } = await import('testcontainers'));
    const container = await new GenericContainer(process.env.REDIS_IMAGE ?? 'redis:7').withExposedPorts(6379).start();
    return `redis://${container.getHost()}:${container.getMappedPort(6379)}`;
  } catch (error) {
    throw new Error(`${HOW_TO} (testcontainers: ${(error as Error).message})`, { cause: error });
  }
}

/** A key prefix no other test uses, so tests can share one Redis. */
export function uniquePrefix(label = 'test'): string {
  return `t-${label}-${randomBytes(4).toString('hex')}:`;
}

export interface RedisScope {
  url: string;
  prefix: string;
  /** A command connection (requests wait for a reconnect rather than fail). */
  command: Redis;
  /** Deletes every `prefix*` key and disconnects. */
  close(): Promise<void>;
}

/** A test's own corner of the shared test Redis (or of `url`): a fresh prefix named after `label`, and a connection. */
export async function redisScope(label: string, url?: string): Promise<RedisScope> {
  const redisUrl = url ?? (await testRedisUrl());
  const prefix = uniquePrefix(label);
  const command = new Redis(redisUrl, { maxRetriesPerRequest: null });
  return {
    url: redisUrl,
    prefix,
    command,
    async close() {
      const keys = await command.keys(`${prefix}*`);
      if (keys.length > 0) await command.del(...keys);
      command.disconnect();
    },
  };
}

export function hasRedisServerBinary(): boolean {
  return spawnSync('redis-server', ['--version']).status === 0;
}

export interface SpawnedRedis {
  url: string;
  port: number;
  /** Kill the server (SIGKILL: a crash; data is gone, as no persistence is configured). */
  stop(): Promise<void>;
  /** Start it again on the same port, empty. */
  start(): Promise<void>;
}

/** A private redis-server on a free loopback port; needs the redis-server binary. */
export async function spawnRedisServer(): Promise<SpawnedRedis> {
  if (!hasRedisServerBinary()) throw new Error(`redis-server is not installed: ${HOW_TO}`);
  const port = await freePort();
  let server: ServiceProcess | undefined;
  const start = async (): Promise<void> => {
    server = startProcess('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      inheritEnv: true,
    });
    await server.waitForOutput(/Ready to accept connections/);
  };
  const stop = async (): Promise<void> => {
    await server?.kill();
  };
  await start();
  return { url: `redis://127.0.0.1:${port}`, port, stop, start };
}
