/**
 * Redis HA benchmarks (issue 13), with real redis-server processes from
 * @matomo-live/redis-ha:
 *
 * - failover: Sentinel (1 master, 1 replica, 3 sentinels, down-after 1 s) and
 *   Cluster (3 masters, 3 replicas, node-timeout 2 s) under the poller, two
 *   gateway processes and WebSocket clients, the simulator changing site 1
 *   every 200 ms. The master (in the Cluster, the one owning site 1's slot) is
 *   SIGKILLed; measured: kill → a replica is master, and kill → every client
 *   has a snapshot published after the kill (seqs are clock-ms based, so "seq
 *   > kill time" means "published after the kill").
 * - publish cost on a 6-node Cluster with 3 subscribing gateways: the poller's
 *   publish script with classic PUBLISH (broadcast over the cluster bus to
 *   every node) against SPUBLISH (the shard only), per change: Redis commands
 *   run, client bytes, cluster-bus messages and bytes.
 */
import { readFileSync } from 'node:fs';
import type { Cluster } from 'ioredis';
import { RedisSnapshotPublisher } from '@matomo-live/poller';
import { createLogger, createRedisClient, RedisChannelSubscriber, redisNames, type RedisClient } from '@matomo-live/shared';
import {
  info,
  pollUntil,
  probe,
  startCluster,
  startSentinel,
  stopAllRedisProcesses,
  type ClusterNode,
  type TestCluster,
  type TestSentinel,
} from '@matomo-live/redis-ha';
import { BENCH_TOKEN } from '../fanout/fanout-bench';
import { ClientSwarm } from '../common/load-generator';
import { startGateway, startPoller, startSimulator } from '../common/matomo-stack';
import { monotonicMs, PayloadFactory } from '../common/payload';
import type { StartedProcess } from '../processes';

export type HaMode = 'sentinel' | 'cluster';

export interface FailoverRound {
  /** SIGKILL → a replica says role:master, ms. */
  promotedMs: number;
  /** SIGKILL → every client has a snapshot published after the kill, ms. */
  allClientsMs: number;
  /** allClientsMs − promotedMs. */
  afterPromotionMs: number;
  clients: number;
  /** Clients whose connection closed during the round. */
  disconnected: number;
}

export interface FailoverBenchResult {
  mode: HaMode;
  topology: string;
  gateways: number;
  clients: number;
  rounds: FailoverRound[];
  error?: string;
}

export interface FailoverPlan {
  rounds: number;
  clients: number;
  gateways: number;
  root: string;
  log: (line: string) => void;
}

const PREFIX = 'matomo-live:';
const silent = createLogger({ name: 'bench', level: 'silent' });

export async function runFailoverBench(mode: HaMode, plan: FailoverPlan): Promise<FailoverBenchResult> {
  const topology =
    mode === 'sentinel'
      ? '1 master, 1 replica, 3 sentinels (down-after 1 s, failover-timeout 3 s)'
      : '3 masters, 3 replicas (cluster-node-timeout 2 s); the master of site 1 killed';
  const result: FailoverBenchResult = { mode, topology, gateways: plan.gateways, clients: plan.clients, rounds: [] };
  try {
    for (let round = 1; round <= plan.rounds; round++) {
      const measured = await failoverRound(mode, plan);
      plan.log(
        `  ${mode} round ${round}: promoted after ${measured.promotedMs} ms; every client had a new snapshot after ${measured.allClientsMs} ms (${measured.afterPromotionMs} ms after the promotion); ${measured.disconnected} disconnected`,
      );
      result.rounds.push(measured);
    }
  } catch (error) {
    plan.log(`  ${mode} failover FAILED: ${(error as Error).message}`);
    result.error = (error as Error).message;
  } finally {
    await stopAllRedisProcesses();
  }
  return result;
}

async function failoverRound(mode: HaMode, plan: FailoverPlan): Promise<FailoverRound> {
  const started: StartedProcess[] = [];
  const swarms: ClientSwarm[] = [];
  let redis: TestSentinel | TestCluster | undefined;
  try {
    redis =
      mode === 'sentinel'
        ? await startSentinel({ downAfterMs: 1000, failoverTimeoutMs: 3000 })
        : await startCluster({ create: 'commands' });
    const redisEnv = { ...redis.env, REDIS_PREFIX: PREFIX };
    const sim = await startSimulator(plan.root, 200);
    started.push(sim.process);
    started.push(startPoller(plan.root, { matomoUrl: sim.url, redisUrl: '', prefix: PREFIX, intervalMs: 250, extra: redisEnv }));
    const gateways = await Promise.all(
      Array.from({ length: plan.gateways }, () =>
        startGateway(plan.root, { redisUrl: '', prefix: PREFIX, token: BENCH_TOKEN, extra: redisEnv }),
      ),
    );
    started.push(...gateways.map((g) => g.process));
    let allAt = Number.NaN;
    const everyClientHasOne = () => swarms.every((s) => s.receivedPerClient().every((n) => n > 0));
    const onReceipt = (_seq: number, at: number) => {
      if (Number.isNaN(allAt) && everyClientHasOne()) allAt = at;
    };
    for (const [i, gateway] of gateways.entries()) {
      const count = Math.floor(plan.clients / plan.gateways) + (i < plan.clients % plan.gateways ? 1 : 0);
      swarms.push(new ClientSwarm({ url: `ws://127.0.0.1:${gateway.port}/?token=${BENCH_TOKEN}`, count }, onReceipt));
    }
    const connected = await Promise.all(swarms.map((s) => s.connect()));
    const clients = connected.reduce((sum, c) => sum + c.connected, 0);
    if (clients !== plan.clients)
      throw new Error(`only ${clients} of ${plan.clients} clients connected: ${connected.flatMap((c) => c.errors).join('; ')}`);
    // Steady state: every client has had a change.
    for (const s of swarms) s.startMeasuring(1);
    await until(() => everyClientHasOne(), 'every client to get a snapshot before the kill', 60_000);

    let killedMono = 0;
    const onKilled = (at: number) => {
      killedMono = monotonicMs();
      allAt = Number.NaN;
      for (const s of swarms) s.startMeasuring(at + 1);
    };
    const kill =
      mode === 'sentinel'
        ? await (redis as TestSentinel).killMaster({ onKilled })
        : await (redis as TestCluster).killMasterOf(await (redis as TestCluster).slotOf(redisNames(PREFIX, 1).snapshotKey), { onKilled });
    await until(() => !Number.isNaN(allAt), 'every client to get a snapshot published after the kill', 60_000);
    const allClientsMs = Math.round(allAt - killedMono);
    const disconnected = swarms.reduce((sum, s) => sum + Object.values(s.report().closes).reduce((a, b) => a + b, 0), 0);
    return { promotedMs: kill.promotedMs, allClientsMs, afterPromotionMs: allClientsMs - kill.promotedMs, clients, disconnected };
  } finally {
    await Promise.all(swarms.map((s) => s.close()));
    await Promise.all(started.map((p) => p.stop()));
    await redis?.stop();
  }
}

/** pollUntil on a synchronous condition, every 10 ms (deliveries are timed to the poll). */
const until = (condition: () => boolean, what: string, timeoutMs: number) => pollUntil(condition, what, timeoutMs, 10);

// ---------------------------------------------------------------- PUBLISH vs SPUBLISH

export interface PublishCostResult {
  publish: 'PUBLISH' | 'SPUBLISH';
  changes: number;
  subscribers: number;
  payloadBytes: number;
  /** Commands Redis ran per change, summed over the nodes (the script's own calls included; reading the counters subtracted). */
  commandsPerChange: number;
  /** Bytes in and out of client connections per change, summed over the nodes. */
  clientBytesPerChange: number;
  /** Cluster-bus messages carrying the publish, per change. */
  busMessagesPerChange: number;
  /** Cluster-bus bytes per change (all nodes' writes minus client and replication output, idle gossip subtracted). */
  busBytesPerChange: number;
  /** Nodes that wrote to subscribers. */
  nodesServingSubscribers: number;
  error?: string;
}

interface NodeCounters {
  commands: number;
  clientIn: number;
  clientOut: number;
  replOut: number;
  wchar: number;
  busPublish: number;
}

async function nodeCounters(node: ClusterNode): Promise<NodeCounters> {
  const stats = await info(node.port, 'stats');
  const commandstats = await info(node.port, 'commandstats');
  const cluster = Object.fromEntries(
    ((await probe(node.port, ['CLUSTER', 'INFO'])) as string)
      .split('\r\n')
      .filter((l) => l.includes(':'))
      .map((l) => l.split(':') as [string, string]),
  );
  const commands = Object.values(commandstats).reduce((sum, v) => sum + Number(/calls=(\d+)/.exec(v)?.[1] ?? 0), 0);
  return {
    commands,
    clientIn: Number(stats.total_net_input_bytes),
    clientOut: Number(stats.total_net_output_bytes),
    replOut: Number(stats.total_net_repl_output_bytes ?? 0),
    // Bytes the process wrote with write(2) and co: client, replication, cluster bus (and rare file writes).
    wchar: Number(/wchar: (\d+)/.exec(readFileSync(`/proc/${node.pid}/io`, 'utf8'))?.[1] ?? NaN),
    busPublish: Number(cluster.cluster_stats_messages_publish_sent ?? 0) + Number(cluster.cluster_stats_messages_publishshard_sent ?? 0),
  };
}

async function totals(nodes: ClusterNode[]): Promise<NodeCounters[]> {
  return Promise.all(nodes.map(nodeCounters));
}

function delta(after: NodeCounters[], before: NodeCounters[]) {
  return after.map((a, i) => {
    const b = before[i]!;
    const clientOut = a.clientOut - b.clientOut;
    return {
      commands: a.commands - b.commands,
      client: a.clientIn - b.clientIn + clientOut,
      clientOut,
      bus: a.wchar - b.wchar - clientOut - (a.replOut - b.replOut),
      busPublish: a.busPublish - b.busPublish,
    };
  });
}

export async function runPublishCostBench({
  changes = 500,
  subscribers = 3,
  payloadBytes = 2048,
  log,
}: {
  changes?: number;
  subscribers?: number;
  payloadBytes?: number;
  log: (line: string) => void;
}): Promise<PublishCostResult[]> {
  const results: PublishCostResult[] = [];
  let cluster: TestCluster | undefined;
  const clients: RedisClient[] = [];
  try {
    cluster = await startCluster({ create: 'commands' });
    const payloads = new PayloadFactory(payloadBytes);
    const channel = redisNames(PREFIX, 1).snapshotChannel;
    const publisherClient = createRedisClient(cluster.connection, 'poller', { logger: silent }) as Cluster;
    clients.push(publisherClient);
    await until(() => publisherClient.status === 'ready', 'the publisher', 30_000);
    let seq = Date.now();
    for (const publish of ['PUBLISH', 'SPUBLISH'] as const) {
      const publisher = new RedisSnapshotPublisher(publisherClient, PREFIX, publish);
      let received = 0;
      const subs: RedisClient[] = [];
      for (let i = 0; i < subscribers; i++) {
        if (publish === 'SPUBLISH') {
          const subscriber = new RedisChannelSubscriber(createRedisClient(cluster.connection, 'gateway-subscriber', { logger: silent }));
          subs.push(subscriber.client);
          subscriber.onMessage(() => received++);
          await subscriber.subscribe(channel);
        } else {
          // What a gateway without sharded pub/sub does in a Cluster: SUBSCRIBE on whichever node it reaches.
          const subscriber = createRedisClient(cluster.connection, 'gateway-command', { logger: silent }) as Cluster;
          subs.push(subscriber);
          subscriber.on('messageBuffer', () => received++);
          await subscriber.subscribe(channel);
        }
      }
      clients.push(...subs);
      // An idle second: gossip (bus bytes per ms) and what reading the counters itself costs (commands, client bytes).
      const idleFrom = await totals(cluster.nodes);
      const idleStarted = monotonicMs();
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const idle = delta(await totals(cluster.nodes), idleFrom);
      const idleMs = monotonicMs() - idleStarted;
      const before = await totals(cluster.nodes);
      const started = monotonicMs();
      for (let i = 0; i < changes; i++) {
        seq += 1;
        const outcome = await publisher.publish(1, { digest: `bench-${publish}-${seq}`, seq, bytes: payloads.message(seq, monotonicMs()) });
        if (outcome.kind !== 'published') throw new Error(`publish ${i} was ${outcome.kind}`);
      }
      await until(() => received >= changes * subscribers, `${changes * subscribers} messages`, 60_000);
      const elapsedMs = monotonicMs() - started;
      const used = delta(await totals(cluster.nodes), before);
      const sum = (rows: typeof used, pick: (n: (typeof used)[number]) => number) => rows.reduce((total, n) => total + pick(n), 0);
      const result: PublishCostResult = {
        publish,
        changes,
        subscribers,
        payloadBytes,
        commandsPerChange: (sum(used, (n) => n.commands) - sum(idle, (n) => n.commands)) / changes,
        clientBytesPerChange: (sum(used, (n) => n.client) - sum(idle, (n) => n.client)) / changes,
        busMessagesPerChange: sum(used, (n) => n.busPublish) / changes,
        busBytesPerChange: Math.max(0, sum(used, (n) => n.bus) - (sum(idle, (n) => n.bus) / idleMs) * elapsedMs) / changes,
        nodesServingSubscribers: used.filter((n) => n.clientOut > (changes * payloadBytes) / 2).length,
      };
      log(
        `  ${publish}: ${result.commandsPerChange.toFixed(1)} commands, ${Math.round(result.clientBytesPerChange)} client bytes, ${result.busMessagesPerChange.toFixed(1)} bus messages, ${Math.round(result.busBytesPerChange)} bus bytes per change; ${result.nodesServingSubscribers} nodes wrote to subscribers`,
      );
      results.push(result);
      for (const s of subs) s.disconnect();
    }
  } catch (error) {
    log(`  publish cost FAILED: ${(error as Error).message}`);
    results.push({
      publish: 'SPUBLISH',
      changes,
      subscribers,
      payloadBytes,
      commandsPerChange: NaN,
      clientBytesPerChange: NaN,
      busMessagesPerChange: NaN,
      busBytesPerChange: NaN,
      nodesServingSubscribers: NaN,
      error: (error as Error).message,
    });
  } finally {
    for (const c of clients) c.disconnect();
    await cluster?.stop();
    await stopAllRedisProcesses();
  }
  return results;
}
