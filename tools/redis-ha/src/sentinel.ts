/**
 * Real Redis Sentinel on loopback (1 master, 1 replica, 3 sentinels by
 * default) and master kills with their timings. Every sentinel must know the
 * replica and the other sentinels before a kill, or the kill may not reach
 * quorum; kills wait for the replicas to be in sync first.
 */
import type { RedisConnectionConfig } from '@matomo-live/shared';
import { freePorts } from './free-port';
import { info, probe, replicasInSync } from './probe';
import { startRedisServer, type RedisProcess } from './redis-server';
import type { KillOptions, KillTimings } from './cluster';
import { pollUntil } from './wait-for';

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
  /** Kill the processes when this process exits (benchmarks). Default false. */
  killOnExit?: boolean;
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
  killOnExit = false,
}: SentinelOptions = {}): Promise<TestSentinel> {
  const t0 = Date.now();
  const ports = await freePorts(1 + replicas + sentinels);
  const [masterPort, ...rest] = ports as [number, ...number[]];
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
    master = await track(startRedisServer({ port: masterPort, password, label: 'sentinel-master', killOnExit }));
    replicaProcs = await Promise.all(
      rest
        .slice(0, replicas)
        .map((port) =>
          track(startRedisServer({ port, role: { kind: 'replica', masterPort }, password, label: 'sentinel-replica', killOnExit })),
        ),
    );
    await pollUntil(() => replicasInSync([master, ...replicaProcs], password), 'replicas in sync');
    const config = [
      `sentinel monitor ${masterName} 127.0.0.1 ${masterPort} ${quorum}`,
      `sentinel down-after-milliseconds ${masterName} ${downAfterMs}`,
      `sentinel failover-timeout ${masterName} ${failoverTimeoutMs}`,
      `sentinel parallel-syncs ${masterName} 1`,
      ...(password ? [`sentinel auth-pass ${masterName} ${password}`] : []),
      ...(sentinelPassword ? [`requirepass ${sentinelPassword}`] : []),
    ];
    sentinelProcs = await Promise.all(
      rest
        .slice(replicas)
        .map((port) => track(startRedisServer({ port, role: { kind: 'sentinel', config }, label: 'sentinel', killOnExit }))),
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
