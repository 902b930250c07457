/**
 * Real Redis for tests. Never an in-process fake.
 *
 * - testRedisUrl(): the shared server — REDIS_URL if set, else a testcontainers
 *   Redis where a Docker engine runs, else a clear error saying how to get one.
 *   Tests sharing it must use their own key prefix (uniquePrefix()).
 * - spawnRedisServer(): a private `redis-server` child process on a free
 *   loopback port that a test may stop and restart (Redis-outage tests).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { randomBytes } from 'node:crypto';

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
    throw new Error(`${HOW_TO} (testcontainers: ${(error as Error).message})`);
  }
}

/** A key prefix no other test uses, so tests can share one Redis. */
export function uniquePrefix(label = 'test'): string {
  return `t-${label}-${randomBytes(4).toString('hex')}:`;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
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
  let child: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    await new Promise<void>((resolve, reject) => {
      child!.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('Ready to accept connections')) resolve();
      });
      child!.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${out.slice(-500)}`)));
    });
    child.stdout!.resume();
  };
  const stop = async (): Promise<void> => {
    if (!child || child.exitCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  };
  await start();
  return { url: `redis://127.0.0.1:${port}`, port, stop, start };
}
