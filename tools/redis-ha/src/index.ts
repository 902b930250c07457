/**
 * Real Redis topologies for tests and benchmarks: a Redis Cluster (3 masters,
 * 3 replicas by default) and Redis Sentinel (1 master, 1 replica, 3
 * sentinels), as `redis-server` child processes on free loopback ports, and
 * master kills with their timings. Never a fake. Everything started is
 * SIGKILLed by stop() (and by stopAllRedisProcesses(), a backstop).
 *
 * What makes them dependable on a loaded 2-core machine (each learnt by
 * running them there):
 * - all ports of a topology are reserved together, and the cluster bus port
 *   is given explicitly (`cluster-port`) instead of port + 10000;
 * - readiness is awaited by the "Ready to accept connections" line, then by
 *   polling Redis state every 50 ms against deadlines; no fixed sleeps;
 * - `repl-diskless-sync-delay 0` (default: 5 s before a replica syncs) and
 *   `repl-ping-replica-period 1` (CLUSTER SLOTS hides a replica whose offset
 *   is still 0 until the first ping, by default after 10 s);
 * - `cluster-replica-validity-factor 0`: a replica may fail over even right
 *   after setup; `cluster-require-full-coverage no`: the other shards keep
 *   serving while one fails over;
 * - Sentinel: every sentinel must know the replica and the other sentinels
 *   before a kill, or the kill may not reach quorum;
 * - kills wait for the replicas to be in sync first, so acknowledged writes
 *   survive the failover.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import type { RedisConnectionConfig } from '@matomo-live/shared';

// ---------------------------------------------------------------- what can run here

/** The major version of the installed redis-server, or undefined when there is none. */
export function redisServerMajorVersion(): number | undefined {
  const run = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (run.status !== 0) return undefined;
  const match = /v=(\d+)\./.exec(run.stdout);
  return match ? Number(match[1]) : undefined;
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

// ---------------------------------------------------------------- utilities

/** `n` distinct loopback ports that were free a moment ago (held together, so none is handed out twice). */
export async function freePorts(n: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const server = createServer();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve());
      });
      servers.push(server);
    }
    return servers.map((s) => (s.address() as { port: number }).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  }
}

/**
 * Polls `check` every `everyMs` until it returns a value other than
 * undefined/false. Errors count as "not yet" (the node may be down on
 * purpose); the last one is quoted when the deadline passes.
 */
export async function pollUntil<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  what: string,
  timeoutMs = 20_000,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const last = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last}`);
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** One command on a short-lived connection that never retries (probes of nodes that may be down). */
export async function probe(port: number, args: Array<string | number>, password?: string): Promise<unknown> {
  const client = new Redis({
    host: '127.0.0.1',
    port,
    password,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
    connectTimeout: 1000,
    protocol: 2,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await client.call(String(args[0]), ...args.slice(1).map(String));
  } finally {
    client.disconnect();
  }
}

/** INFO <section> as a map. */
export async function info(port: number, section: string, password?: string): Promise<Record<string, string>> {
  const text = (await probe(port, ['INFO', section], password)) as string;
  const out: Record<string, string> = {};
  for (const line of text.split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

// ---------------------------------------------------------------- processes

export interface RedisProcess {
  port: number;
  /** The process's own directory (nodes.conf, sentinel.conf). */
  dir: string;
  child: ChildProcess;
  pid: number;
  /** What it printed (the last 100 kB). */
  output(): string;
  alive(): boolean;
  /** SIGKILL (a crash; nothing is persisted); resolves once the process is gone. */
  kill(): Promise<void>;
}

const started = new Set<RedisProcess>();

/** redis-server on `port` with `args` (after an optional config file), resolved once it is ready. */
export async function startRedisProcess(
  port: number,
  args: string[],
  { configFile, label = `redis-${port}`, readyTimeoutMs = 15_000 }: { configFile?: string; label?: string; readyTimeoutMs?: number } = {},
): Promise<RedisProcess> {
  const dir = mkdtempSync(join(tmpdir(), `matomo-live-${label}-`));
  const argv = [
    ...(configFile ? [configFile] : []),
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    'no',
    '--repl-diskless-sync-delay',
    '0',
    ...args,
  ];
  const child = spawn('redis-server', argv, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (chunk: Buffer) => {
    out += chunk.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const alive = () => child.exitCode === null && child.signalCode === null;
  const proc: RedisProcess = {
    port,
    dir,
    child,
    pid: child.pid ?? 0,
    output: () => out,
    alive,
    async kill() {
      if (alive()) child.kill('SIGKILL');
      await exited;
      started.delete(proc);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  started.add(proc);
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not ready after ${readyTimeoutMs} ms:\n${out}`)), readyTimeoutMs);
      const check = () => {
        if (!/Ready to accept connections|Sentinel ID is/.test(out)) return;
        clearTimeout(timer);
        child.stdout.off('data', check);
        resolve();
      };
      child.stdout.on('data', check);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`exited (${code ?? signal}) before it was ready:\n${out}`));
      });
      check();
    });
  } catch (error) {
    await proc.kill();
    throw new Error(`${label} on port ${port} did not start: ${(error as Error).message}`, { cause: error });
  }
  return proc;
}

/** Kills every Redis process this module started (a backstop for afterAll and exit paths). */
export async function stopAllRedisProcesses(): Promise<void> {
  await Promise.all([...started].map((p) => p.kill()));
}

/** True when every live replica among `procs` has its link up and its master's replication offset. */
export async function replicasInSync(procs: RedisProcess[], password?: string): Promise<boolean> {
  const infos = await Promise.all(procs.filter((p) => p.alive()).map(async (p) => ({ p, i: await info(p.port, 'replication', password) })));
  for (const { i } of infos) {
    if (i.role !== 'slave') continue;
    if (i.master_link_status !== 'up') return false;
    const master = infos.find(({ p }) => p.port === Number(i.master_port));
    if (master && master.i.master_repl_offset !== i.slave_repl_offset) return false;
  }
  return true;
}

// ---------------------------------------------------------------- cluster

export interface ClusterNode extends RedisProcess {
  busPort: number;
  id: string;
}

export interface KillTimings {
  /** From the SIGKILL to a replica saying role:master, ms. */
  promotedMs: number;
  /** Unix ms of the SIGKILL and of the promotion seen. */
  killedAt: number;
  promotedAt: number;
}

export interface KillOptions {
  /** Deadline of each wait, ms. Default 30000. */
  timeoutMs?: number;
  /** Runs right after the kill, with its time. */
  onKilled?: (at: number) => void;
}

export interface TestCluster {
  nodes: ClusterNode[];
  /** Seed nodes (the first masters). */
  seeds: Array<{ host: string; port: number }>;
  /** The connection settings REDIS_CLUSTER_NODES gives. */
  connection: RedisConnectionConfig;
  /** REDIS_CLUSTER_NODES for a service process. */
  env: Record<string, string>;
  /** The hash slot of `key` (CLUSTER KEYSLOT). */
  slotOf(key: string): Promise<number>;
  /** The master that owns `slot` now (asked of a live node). */
  masterOf(slot: number): Promise<ClusterNode>;
  replicasOf(masterId: string): Promise<ClusterNode[]>;
  /** Resolves when every live replica has its master's replication offset. */
  waitInSync(timeoutMs?: number): Promise<void>;
  /**
   * Waits for the replicas to be in sync, SIGKILLs the master owning `slot`,
   * and resolves once its replica is master and every live node says
   * cluster_state:ok.
   */
  killMasterOf(
    slot: number,
    options?: KillOptions,
  ): Promise<KillTimings & { killed: ClusterNode; promoted: ClusterNode; clusterOkMs: number }>;
  setupMs: number;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  masters?: number;
  replicasPerMaster?: number;
  /** cluster-node-timeout, ms. Default 2000. */
  nodeTimeoutMs?: number;
  /** `redis-cli --cluster create` (as an operator would; default) or direct CLUSTER commands (about 1 s faster). */
  create?: 'redis-cli' | 'commands';
  extraArgs?: string[];
}

/** A fresh Redis Cluster on loopback, resolved once every node reports cluster_state:ok, they agree on the slot map and every replica is in sync. */
export async function startCluster({
  masters = 3,
  replicasPerMaster = 1,
  nodeTimeoutMs = 2000,
  create = 'redis-cli',
  extraArgs = [],
}: ClusterOptions = {}): Promise<TestCluster> {
  const t0 = Date.now();
  const count = masters * (1 + replicasPerMaster);
  const ports = await freePorts(count * 2);
  const nodes: ClusterNode[] = [];
  const stop = async () => {
    await Promise.all(nodes.map((n) => n.kill()));
  };
  try {
    const startedNodes = await Promise.allSettled(
      Array.from({ length: count }, async (_, i) => {
        const port = ports[2 * i]!;
        const busPort = ports[2 * i + 1]!;
        const proc = await startRedisProcess(
          port,
          [
            '--cluster-enabled',
            'yes',
            '--cluster-port',
            String(busPort),
            '--cluster-config-file',
            'nodes.conf',
            '--cluster-node-timeout',
            String(nodeTimeoutMs),
            '--cluster-replica-validity-factor',
            '0',
            '--cluster-require-full-coverage',
            'no',
            '--repl-ping-replica-period',
            '1',
            ...extraArgs,
          ],
          { label: `cluster-${port}` },
        );
        nodes.push(Object.assign(proc, { busPort, id: '' }));
        return proc;
      }),
    );
    const failed = startedNodes.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    // In port order again (nodes were pushed as they became ready).
    nodes.sort((a, b) => ports.indexOf(a.port) - ports.indexOf(b.port));
    for (const node of nodes) node.id = (await probe(node.port, ['CLUSTER', 'MYID'])) as string;
    const masterNodes = nodes.slice(0, masters);
    if (create === 'redis-cli') {
      const run = spawnSync(
        'redis-cli',
        [
          '--cluster',
          'create',
          ...nodes.map((n) => `127.0.0.1:${n.port}`),
          '--cluster-replicas',
          String(replicasPerMaster),
          '--cluster-yes',
        ],
        { encoding: 'utf8', timeout: 60_000 },
      );
      if (run.status !== 0) throw new Error(`redis-cli --cluster create failed: ${run.stdout}${run.stderr}`);
    } else {
      const per = Math.floor(16384 / masters);
      await Promise.all(
        masterNodes.map((n, i) => probe(n.port, ['CLUSTER', 'ADDSLOTSRANGE', i * per, i === masters - 1 ? 16383 : (i + 1) * per - 1])),
      );
      await Promise.all(nodes.slice(1).map((n) => probe(n.port, ['CLUSTER', 'MEET', '127.0.0.1', nodes[0]!.port, nodes[0]!.busPort])));
      await Promise.all(
        nodes.slice(masters).map(async (n, i) => {
          const master = masterNodes[i % masters]!;
          await pollUntil(
            async () => ((await probe(n.port, ['CLUSTER', 'NODES'])) as string).includes(master.id),
            `${n.port} to learn ${master.port}`,
          );
          await probe(n.port, ['CLUSTER', 'REPLICATE', master.id]);
        }),
      );
    }
    await waitClusterStable(nodes, masters, 60_000);
  } catch (error) {
    await stop();
    throw error;
  }
  const live = () => {
    const node = nodes.find((n) => n.alive());
    if (node === undefined) throw new Error('no cluster node is alive');
    return node;
  };
  const byId = (id: string) => {
    const node = nodes.find((n) => n.id === id);
    if (node === undefined) throw new Error(`unknown node id ${id}`);
    return node;
  };
  const seeds = nodes.slice(0, masters).map((n) => ({ host: '127.0.0.1', port: n.port }));
  const cluster: TestCluster = {
    nodes,
    seeds,
    connection: { mode: 'cluster', nodes: seeds, username: undefined, password: undefined, tls: false },
    env: { REDIS_CLUSTER_NODES: seeds.map((s) => `${s.host}:${s.port}`).join(',') },
    setupMs: Date.now() - t0,
    async slotOf(key) {
      return (await probe(live().port, ['CLUSTER', 'KEYSLOT', key])) as number;
    },
    async masterOf(slot) {
      const slots = (await probe(live().port, ['CLUSTER', 'SLOTS'])) as Array<[number, number, [string, number, string]]>;
      const range = slots.find(([a, b]) => a <= slot && slot <= b);
      if (!range) throw new Error(`slot ${slot} is not served`);
      return byId(range[2][2]);
    },
    async replicasOf(masterId) {
      const text = (await probe(live().port, ['CLUSTER', 'NODES'])) as string;
      return text
        .split('\n')
        .filter((line) => line.split(' ')[3] === masterId)
        .map((line) => byId(line.split(' ')[0]!));
    },
    async waitInSync(timeoutMs = 15_000) {
      await pollUntil(() => replicasInSync(nodes.filter((n) => n.alive())), 'replicas in sync', timeoutMs);
    },
    async killMasterOf(slot, { timeoutMs = 30_000, onKilled } = {}) {
      const killed = await cluster.masterOf(slot);
      const [replica] = await cluster.replicasOf(killed.id);
      if (!replica) throw new Error(`master ${killed.port} has no replica`);
      await cluster.waitInSync();
      const killedAt = Date.now();
      await killed.kill();
      onKilled?.(killedAt);
      await pollUntil(
        async () => (await info(replica.port, 'replication')).role === 'master',
        `replica ${replica.port} to be promoted`,
        timeoutMs,
      );
      const promotedAt = Date.now();
      await pollUntil(
        async () => {
          for (const n of nodes.filter((x) => x.alive())) {
            if (!((await probe(n.port, ['CLUSTER', 'INFO'])) as string).includes('cluster_state:ok')) return false;
          }
          return true;
        },
        'cluster_state:ok on every live node',
        timeoutMs,
      );
      return { killed, promoted: replica, killedAt, promotedAt, promotedMs: promotedAt - killedAt, clusterOkMs: Date.now() - killedAt };
    },
    stop,
  };
  return cluster;
}

/**
 * Usable for a test: every live node says cluster_state:ok and returns the
 * same CLUSTER SLOTS (gossip converged), `masters` masters own slots, each
 * with a replica, and every replica is in sync.
 */
export async function waitClusterStable(nodes: ClusterNode[], masters: number, timeoutMs = 30_000): Promise<void> {
  type SlotRange = [number, number, [string, number, string], ...Array<[string, number, string]>];
  const normalize = (slots: SlotRange[]) =>
    JSON.stringify(
      slots.map(([a, b, master, ...replicas]) => [a, b, master[2], replicas.map((r) => r[2]).sort()] as const).sort((x, y) => x[0] - y[0]),
    );
  await pollUntil(
    async () => {
      const live = nodes.filter((n) => n.alive());
      const views = await Promise.all(
        live.map(async (n) => ({
          state: (await probe(n.port, ['CLUSTER', 'INFO'])) as string,
          slots: normalize((await probe(n.port, ['CLUSTER', 'SLOTS'])) as SlotRange[]),
        })),
      );
      if (!views.every((v) => v.state.includes('cluster_state:ok'))) return false;
      if (new Set(views.map((v) => v.slots)).size !== 1) return false;
      const slotMap = JSON.parse(views[0]!.slots) as Array<[number, number, string, string[]]>;
      if (new Set(slotMap.map((s) => s[2])).size !== masters) return false;
      if (slotMap.some(([, , , replicas]) => replicas.length === 0)) return false;
      return replicasInSync(live);
    },
    'the cluster to be stable (state ok, one slot map, replicas in sync)',
    timeoutMs,
  );
}

// ---------------------------------------------------------------- sentinel

export interface TestSentinel {
  masterName: string;
  master: RedisProcess;
  replicas: RedisProcess[];
  sentinels: RedisProcess[];
  /** The connection settings REDIS_SENTINELS gives. */
  connection: RedisConnectionConfig;
  /** REDIS_SENTINELS (and REDIS_SENTINEL_MASTER, passwords) for a service process. */
  env: Record<string, string>;
  /** The master's port as the sentinels see it now. */
  currentMasterPort(): Promise<number>;
  waitInSync(timeoutMs?: number): Promise<void>;
  /**
   * Waits for the replicas to be in sync, SIGKILLs the current master, and
   * resolves once a replica says role:master and every live sentinel names it.
   */
  killMaster(options?: KillOptions): Promise<KillTimings & { killed: RedisProcess; promoted: RedisProcess; sentinelsMs: number }>;
  setupMs: number;
  stop(): Promise<void>;
}

export interface SentinelOptions {
  /** Default "mymaster". */
  masterName?: string;
  replicas?: number;
  sentinels?: number;
  quorum?: number;
  /** sentinel down-after-milliseconds. Default 1000. */
  downAfterMs?: number;
  /** sentinel failover-timeout. Default 3000. */
  failoverTimeoutMs?: number;
  /** Data nodes' password (requirepass + masterauth, and the sentinels' auth-pass). */
  password?: string;
  /** The sentinels' own requirepass. */
  sentinelPassword?: string;
}

export async function startSentinel({
  masterName = 'mymaster',
  replicas = 1,
  sentinels = 3,
  quorum = 2,
  downAfterMs = 1000,
  failoverTimeoutMs = 3000,
  password,
  sentinelPassword,
}: SentinelOptions = {}): Promise<TestSentinel> {
  const t0 = Date.now();
  const ports = await freePorts(1 + replicas + sentinels);
  const [masterPort, ...rest] = ports as [number, ...number[]];
  const auth = password ? ['--requirepass', password, '--masterauth', password] : [];
  const procs: RedisProcess[] = [];
  const stop = async () => {
    await Promise.all(procs.map((p) => p.kill()));
  };
  const track = async (starting: Promise<RedisProcess>) => {
    const proc = await starting;
    procs.push(proc);
    return proc;
  };
  let master: RedisProcess;
  let replicaProcs: RedisProcess[];
  let sentinelProcs: RedisProcess[];
  try {
    master = await track(startRedisProcess(masterPort, auth, { label: 'sentinel-master' }));
    replicaProcs = await Promise.all(
      rest
        .slice(0, replicas)
        .map((port) =>
          track(startRedisProcess(port, ['--replicaof', '127.0.0.1', String(masterPort), ...auth], { label: 'sentinel-replica' })),
        ),
    );
    await pollUntil(() => replicasInSync([master, ...replicaProcs], password), 'replicas in sync');
    sentinelProcs = await Promise.all(
      rest.slice(replicas).map((port) => {
        // Sentinel rewrites its configuration file (known replicas, sentinels, epochs): it must be its own and writable.
        const confDir = mkdtempSync(join(tmpdir(), 'matomo-live-sentinel-conf-'));
        const file = join(confDir, 'sentinel.conf');
        writeFileSync(
          file,
          [
            `sentinel monitor ${masterName} 127.0.0.1 ${masterPort} ${quorum}`,
            `sentinel down-after-milliseconds ${masterName} ${downAfterMs}`,
            `sentinel failover-timeout ${masterName} ${failoverTimeoutMs}`,
            `sentinel parallel-syncs ${masterName} 1`,
            ...(password ? [`sentinel auth-pass ${masterName} ${password}`] : []),
            ...(sentinelPassword ? [`requirepass ${sentinelPassword}`] : []),
            '',
          ].join('\n'),
        );
        return track(
          startRedisProcess(port, ['--sentinel'], { configFile: file, label: 'sentinel' }).then(
            (proc) => {
              const kill = proc.kill;
              proc.kill = async () => {
                await kill();
                rmSync(confDir, { recursive: true, force: true });
              };
              return proc;
            },
            (error: unknown) => {
              rmSync(confDir, { recursive: true, force: true });
              throw error;
            },
          ),
        );
      }),
    );
    // Hello messages every 2 s: until every sentinel knows the replicas and the others, a kill may not reach quorum.
    await pollUntil(
      async () => {
        for (const s of sentinelProcs) {
          const state = pairs((await probe(s.port, ['SENTINEL', 'MASTER', masterName], sentinelPassword)) as string[]);
          if (state.flags !== 'master' || Number(state['num-slaves']) < replicas || Number(state['num-other-sentinels']) < sentinels - 1) {
            return false;
          }
        }
        return true;
      },
      'the sentinels to know the replicas and each other',
      30_000,
      100,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  const data = [master, ...replicaProcs];
  const addresses = sentinelProcs.map((s) => ({ host: '127.0.0.1', port: s.port }));
  const masterPortNow = async (sentinel: RedisProcess) =>
    Number(((await probe(sentinel.port, ['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', masterName], sentinelPassword)) as [string, string])[1]);
  const api: TestSentinel = {
    masterName,
    master,
    replicas: replicaProcs,
    sentinels: sentinelProcs,
    connection: { mode: 'sentinel', sentinels: addresses, masterName, username: undefined, password, sentinelPassword, tls: false },
    env: {
      REDIS_SENTINELS: addresses.map((a) => `${a.host}:${a.port}`).join(','),
      REDIS_SENTINEL_MASTER: masterName,
      ...(password ? { REDIS_PASSWORD: password } : {}),
      ...(sentinelPassword ? { REDIS_SENTINEL_PASSWORD: sentinelPassword } : {}),
    },
    setupMs: Date.now() - t0,
    async currentMasterPort() {
      return pollUntil(async () => {
        for (const s of sentinelProcs.filter((x) => x.alive())) {
          try {
            return await masterPortNow(s);
          } catch {
            // the next sentinel
          }
        }
        return undefined;
      }, 'a sentinel to name the master');
    },
    async waitInSync(timeoutMs = 15_000) {
      await pollUntil(
        () =>
          replicasInSync(
            data.filter((p) => p.alive()),
            password,
          ),
        'replicas in sync',
        timeoutMs,
      );
    },
    async killMaster({ timeoutMs = 30_000, onKilled } = {}) {
      const port = await api.currentMasterPort();
      const killed = data.find((p) => p.port === port);
      if (killed === undefined) throw new Error(`the sentinels name port ${port}, which is not one of ours`);
      await api.waitInSync();
      const killedAt = Date.now();
      await killed.kill();
      onKilled?.(killedAt);
      const promoted = await pollUntil(
        async () => {
          for (const p of data.filter((x) => x.alive())) if ((await info(p.port, 'replication', password)).role === 'master') return p;
          return undefined;
        },
        'a replica to be promoted',
        timeoutMs,
      );
      const promotedAt = Date.now();
      await pollUntil(
        async () => {
          for (const s of sentinelProcs.filter((x) => x.alive())) if ((await masterPortNow(s)) !== promoted.port) return false;
          return true;
        },
        'every sentinel to name the new master',
        timeoutMs,
      );
      return { killed, promoted, killedAt, promotedAt, promotedMs: promotedAt - killedAt, sentinelsMs: Date.now() - killedAt };
    },
    stop,
  };
  return api;
}

function pairs(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < list.length; i += 2) out[list[i]!] = list[i + 1]!;
  return out;
}
