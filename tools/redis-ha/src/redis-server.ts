/**
 * The one `redis-server` launcher of tests and benchmarks. A standalone
 * server, a replica, a sentinel and a cluster node are roles of the same
 * launcher; each runs in a directory of its own on loopback, without
 * persistence, and is resolved once it says it is ready (its log line, not a
 * sleep). Everything started is SIGKILLed by kill() (and by
 * stopAllRedisProcesses(), a backstop).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port';
import { startProcess, type ServiceProcess } from './process';

/** `redis-server --version`'s line, or undefined when there is no redis-server (the only other run of the binary). */
export function redisServerVersionLine(): string | undefined {
  const run = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  return run.status === 0 ? run.stdout.split('\n')[0]?.trim() : undefined;
}

/** The major version of the installed redis-server, or undefined when there is none. */
export function redisServerMajorVersion(): number | undefined {
  const match = /v=(\d+)\./.exec(redisServerVersionLine() ?? '');
  return match ? Number(match[1]) : undefined;
}

export type RedisRole =
  | { kind: 'standalone' }
  | { kind: 'replica'; masterPort: number }
  /** `config`: the sentinel.conf lines (sentinel rewrites the file, so the launcher writes it into the node's directory). */
  | { kind: 'sentinel'; config: string[] }
  /** `busPort` given explicitly (`cluster-port`) rather than port + 10000, so all ports of a topology are reserved together. */
  | { kind: 'cluster-node'; busPort: number; nodeTimeoutMs: number };

export interface RedisServerOptions {
  /** Default: a free loopback port. */
  port?: number;
  /** Default standalone. */
  role?: RedisRole;
  /** requirepass (and masterauth, so replicas and failed-over masters authenticate). */
  password?: string;
  /** More redis-server arguments, after the role's. */
  args?: string[];
  /** Names the directory and error messages. */
  label?: string;
  /** Default 15000. */
  readyTimeoutMs?: number;
  /** Kill it when this process exits (benchmarks). Default false. */
  killOnExit?: boolean;
}

export interface RedisProcess {
  port: number;
  /** redis://127.0.0.1:<port> (without the password). */
  url: string;
  /** The process's own directory (nodes.conf, sentinel.conf). */
  dir: string;
  child: ServiceProcess['child'];
  pid: number;
  /** What it printed (the last 100 kB). */
  output(): string;
  alive(): boolean;
  /** SIGKILL (a crash; nothing is persisted); resolves once the process is gone and its directory removed. */
  kill(): Promise<void>;
}

const started = new Set<RedisProcess>();

function roleArgs(role: RedisRole, dir: string): { configFile?: string; args: string[] } {
  switch (role.kind) {
    case 'standalone':
      return { args: [] };
    case 'replica':
      return { args: ['--replicaof', '127.0.0.1', String(role.masterPort)] };
    case 'sentinel': {
      const configFile = join(dir, 'sentinel.conf');
      writeFileSync(configFile, [...role.config, ''].join('\n'));
      return { configFile, args: ['--sentinel'] };
    }
    case 'cluster-node':
      return {
        args: [
          '--cluster-enabled',
          'yes',
          '--cluster-port',
          String(role.busPort),
          '--cluster-config-file',
          'nodes.conf',
          '--cluster-node-timeout',
          String(role.nodeTimeoutMs),
          // A replica may fail over even right after setup, and the other shards keep serving while one fails over.
          '--cluster-replica-validity-factor',
          '0',
          '--cluster-require-full-coverage',
          'no',
          // CLUSTER SLOTS hides a replica whose offset is still 0 until its first ping (by default after 10 s).
          '--repl-ping-replica-period',
          '1',
        ],
      };
  }
}

/** Starts redis-server in `role`, resolved once it is ready to accept connections. */
export async function startRedisServer({
  port,
  role = { kind: 'standalone' },
  password,
  args = [],
  label,
  readyTimeoutMs = 15_000,
  killOnExit = false,
}: RedisServerOptions = {}): Promise<RedisProcess> {
  const serverPort = port ?? (await freePort());
  const name = label ?? `redis-${role.kind}-${serverPort}`;
  const dir = mkdtempSync(join(tmpdir(), `matomo-live-${name}-`));
  const { configFile, args: forRole } = roleArgs(role, dir);
  const auth = password && role.kind !== 'sentinel' ? ['--requirepass', password, '--masterauth', password] : [];
  const argv = [
    ...(configFile ? [configFile] : []),
    '--port',
    String(serverPort),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    'no',
    // By default a replica waits 5 s before its first sync.
    '--repl-diskless-sync-delay',
    '0',
    ...forRole,
    ...auth,
    ...args,
  ];
  const server = startProcess('redis-server', argv, { cwd: dir, outputLimit: 100_000, killOnExit });
  const alive = () => server.child.exitCode === null && server.child.signalCode === null;
  const proc: RedisProcess = {
    port: serverPort,
    url: `redis://127.0.0.1:${serverPort}`,
    dir,
    child: server.child,
    pid: server.pid,
    output: server.output,
    alive,
    async kill() {
      await server.kill();
      started.delete(proc);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  started.add(proc);
  try {
    await server.waitForOutput(/Ready to accept connections|Sentinel ID is/, readyTimeoutMs);
  } catch (error) {
    await proc.kill();
    throw new Error(`${name} on port ${serverPort} did not start: ${(error as Error).message}`, { cause: error });
  }
  return proc;
}

/** Kills every Redis process this module started (a backstop for afterAll and exit paths). */
export async function stopAllRedisProcesses(): Promise<void> {
  await Promise.all([...started].map((p) => p.kill()));
}
