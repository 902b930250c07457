/**
 * A real Redis Cluster on loopback (3 masters, 3 replicas by default) and
 * master kills with their timings. What makes it dependable on a loaded
 * 2-core machine (each learnt by running it there): all ports (and the bus
 * ports) are reserved together; readiness is awaited by Redis state against
 * deadlines, never by sleeps; kills wait for the replicas to be in sync
 * first, so acknowledged writes survive the failover.
 */
import { spawnSync } from 'node:child_process';
import type { RedisConnectionConfig } from '@matomo-live/shared';
import { freePorts } from './free-port';
import { info, probe, replicasInSync } from './probe';
import { startRedisServer, type RedisProcess } from './redis-server';
import { pollUntil } from './wait-for';

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
  /** Kill the nodes when this process exits (benchmarks). Default false. */
  killOnExit?: boolean;
}

/** A fresh Redis Cluster on loopback, resolved once every node reports cluster_state:ok, they agree on the slot map and every replica is in sync. */
export async function startCluster({
  masters = 3,
  replicasPerMaster = 1,
  nodeTimeoutMs = 2000,
  create = 'redis-cli',
  extraArgs = [],
  killOnExit = false,
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
        const proc = await startRedisServer({
          port,
          role: { kind: 'cluster-node', busPort, nodeTimeoutMs },
          args: extraArgs,
          label: `cluster-${port}`,
          killOnExit,
        });
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
      const id = await slotMasterSeenBy(live().port, slot);
      if (id === undefined) throw new Error(`slot ${slot} is not served`);
      return byId(id);
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
      // cluster_state:ok alone is not enough: a node that has not heard of the failover yet still maps the
      // slot to the dead master (and is "ok" until it marks it failed). Every live node must name the replica.
      await pollUntil(
        async () => {
          for (const n of nodes.filter((x) => x.alive())) {
            if (!((await probe(n.port, ['CLUSTER', 'INFO'])) as string).includes('cluster_state:ok')) return false;
            if ((await slotMasterSeenBy(n.port, slot)) !== replica.id) return false;
          }
          return true;
        },
        `cluster_state:ok and replica ${replica.port} owning slot ${slot} on every live node`,
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

/** The node id that the node on `port` names as the master of `slot` (CLUSTER SLOTS), or undefined when none. */
async function slotMasterSeenBy(port: number, slot: number): Promise<string | undefined> {
  const slots = (await probe(port, ['CLUSTER', 'SLOTS'])) as Array<[number, number, [string, number, string]]>;
  return slots.find(([a, b]) => a <= slot && slot <= b)?.[2][2];
}
