/**
 * Fan-out benchmark: one server process, N clients in load-generator
 * processes, snapshots published to Redis at a fixed rate. The same load
 * generator, payloads and procedure for every server:
 *
 * 1. SET the cached snapshot; start the server; read its RSS (baseline).
 * 2. Connect N clients; wait `idleMs`; read RSS again (idle per client); 1 s of unmeasured warm-up messages.
 * 3. For each rate: publish rate × durationS messages; wait until every client
 *    has every message (or `drainMs` passes); read CPU, peak RSS, deliveries, latency.
 */
import { join } from 'node:path';
import Redis from 'ioredis';
import { redisNames } from '@matomo-live/shared';
import { deliveryWindowMs, LoadGeneratorPool } from '../common/load-generator-pool';
import type { ClientProtocol } from '../common/load-generator';
import { monotonicMs, PayloadFactory } from '../common/payload';
import { cpuSeconds, RssPeakSampler, rssBytes } from '../common/proc-stats';
import { scrapeGatewayMetrics, sendLagPercentileMs } from './gateway-metrics-scrape';
import { startGateway } from '../common/matomo-stack';
import { freePort, startProcess, waitForPort, type StartedProcess } from '../processes';
import { publishAtRate, RedisLoadPublisher, SocketIoLoadPublisher, type LoadPublisher } from '../common/publisher';
import { setTimeout as sleep } from 'node:timers/promises';

/** `gateway-ws-send`: the same gateway with BROADCAST_FAST_PATH=false (every write through ws.send), to show what the shared frame saves. */
export type ServerKind = 'gateway' | 'gateway-ws-send' | 'ws' | 'socketio';

export const SERVER_LABELS: Record<ServerKind, string> = {
  gateway: 'matomo-live gateway',
  'gateway-ws-send': 'matomo-live gateway, fast path off (ws.send)',
  ws: 'bare ws broadcast',
  socketio: 'Socket.IO 4 + redis-adapter',
};

export const BENCH_TOKEN = 'bench-token-0123456789';

export interface FanoutPlan {
  servers: ServerKind[];
  sizes: number[];
  /** Updates per second, each run in turn on the same connections. */
  rates: number[];
  /** Seconds of publishing per rate. */
  durationS: number;
  /** Quiet time after connecting, before the idle RSS reading, ms. */
  idleMs: number;
  /** Longest wait for stragglers after the last publish, ms. */
  drainMs: number;
  loadGenerators: number;
  payloadBytes: number;
  redisUrl: string;
  /** Repository root (where gateway/dist and bench/dist are). */
  root: string;
  log: (line: string) => void;
}

export interface FanoutResult {
  server: ServerKind;
  clients: number;
  connected: number;
  rate: number;
  published: number;
  expected: number;
  delivered: number;
  duplicates: number;
  /** Fewest measured messages one client got, of `published`. */
  perClientMin: number;
  /** Deliveries / max(last receipt − first publish, count / rate). */
  deliveredPerSecond: number;
  offeredPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Median over messages of the first client's latency: the path without the load generators' queueing. */
  firstClientP50Ms: number;
  serverCpuSeconds: number;
  serverCpuPer1kDeliveriesMs: number;
  /** Server CPU share of one core over the publishing window, %. */
  serverCpuPercent: number;
  loadGeneratorCpuPer1kDeliveriesMs: number;
  baselineRssBytes: number;
  idleRssPerClientBytes: number;
  loadRssPerClientBytes: number;
  closes: Record<string, number>;
  /** Gateway only, from its /metrics: receive→socket-write lag (bucket bounds, ms) and latest-wins skips. */
  gatewaySendLagP50Ms?: number;
  gatewaySendLagP99Ms?: number;
  gatewaySkippedMessages?: number;
  error?: string;
}

interface ServerUnderTest {
  process: StartedProcess;
  /** The gateway's Prometheus endpoint (the peers have none). */
  metricsUrl?: string;
  url: string;
  protocol: ClientProtocol;
  publisher: LoadPublisher;
}

async function startServer(kind: ServerKind, plan: FanoutPlan, prefix: string, payloads: PayloadFactory): Promise<ServerUnderTest> {
  const names = redisNames(prefix, 1);
  const port = await freePort();
  // BENCH_SERVER_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") reaches the server under test only, not the load generators.
  const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  const common = { ...process.env, PORT: String(port), REDIS_URL: plan.redisUrl, REDIS_PREFIX: prefix };
  let server: StartedProcess;
  let publisher: LoadPublisher;
  const url = `ws://127.0.0.1:${port}/`;
  let protocol: ClientProtocol = 'ws';
  switch (kind) {
    case 'gateway':
    case 'gateway-ws-send': {
      const extra = kind === 'gateway-ws-send' ? { BROADCAST_FAST_PATH: 'false' } : undefined;
      const gateway = await startGateway(plan.root, { redisUrl: plan.redisUrl, prefix, token: BENCH_TOKEN, nodeArgs, extra });
      return {
        process: gateway.process,
        metricsUrl: `http://127.0.0.1:${gateway.port}/metrics`,
        url: `ws://127.0.0.1:${gateway.port}/?token=${BENCH_TOKEN}`,
        protocol: 'ws',
        publisher: new RedisLoadPublisher(new Redis(plan.redisUrl), names, payloads),
      };
    }
    case 'ws':
      server = startProcess(process.execPath, [...nodeArgs, join(plan.root, 'bench/dist/peers/ws-broadcast-server.js')], { env: common });
      publisher = new RedisLoadPublisher(new Redis(plan.redisUrl), names, payloads);
      break;
    case 'socketio': {
      const key = `${prefix}socket.io`;
      server = startProcess(process.execPath, [...nodeArgs, join(plan.root, 'bench/dist/peers/socketio-server.js')], {
        env: { ...common, SOCKET_IO_KEY: key },
      });
      publisher = new SocketIoLoadPublisher(new Redis(plan.redisUrl), new Redis(plan.redisUrl), payloads, key);
      protocol = 'socketio';
      break;
    }
  }
  await waitForPort(port, server);
  return { process: server, url, protocol, publisher };
}

/** Runs the plan for one server and one size; one result per rate. */
export async function runFanout(kind: ServerKind, clients: number, plan: FanoutPlan): Promise<FanoutResult[]> {
  const prefix = `bench-${kind}-${clients}-${Date.now()}:`;
  const payloads = new PayloadFactory(plan.payloadBytes);
  const redis = new Redis(plan.redisUrl);
  const results: FanoutResult[] = [];
  let server: ServerUnderTest | undefined;
  let pool: LoadGeneratorPool | undefined;
  try {
    await redis.set(redisNames(prefix, 1).snapshotKey, payloads.message(Date.now() * 10, monotonicMs()));
    server = await startServer(kind, plan, prefix, payloads);
    const pid = server.process.pid;
    await sleep(500);
    const baselineRss = rssBytes(pid);
    pool = new LoadGeneratorPool(plan.loadGenerators);
    const connectStart = monotonicMs();
    const connect = await pool.connect({ url: server.url, count: clients, protocol: server.protocol });
    plan.log(
      `  ${kind} ${clients}: ${connect.connected} connected in ${((monotonicMs() - connectStart) / 1000).toFixed(1)} s${connect.failed ? `, ${connect.failed} failed (${connect.errors.join('; ')})` : ''}`,
    );
    await sleep(plan.idleMs);
    const idleRss = rssBytes(pid);
    // Warm-up: a few unmeasured messages, so JIT compilation of the send and receive paths is not in the first measured rate.
    await publishAtRate(server.publisher, 10, 10, Date.now() * 10 - 1000);
    await sleep(1000);
    for (const rate of plan.rates) {
      const count = Math.max(1, Math.round(rate * plan.durationS));
      // Clock-ms seqs: above the connect-time snapshot's, and growing across runs as the poller's do.
      const firstSeq = Date.now() * 10;
      await pool.startMeasuring(firstSeq);
      const open = (await pool.report()).open;
      const expected = open * count;
      const cpu0 = cpuSeconds(pid);
      const loadCpu0 = pool.pids.reduce((s, p) => s + cpuSeconds(p), 0);
      const metricsBefore = server.metricsUrl ? await scrapeGatewayMetrics(server.metricsUrl) : undefined;
      const rss = new RssPeakSampler(pid);
      const run = await publishAtRate(server.publisher, rate, count, firstSeq);
      const report = await pool.drain(expected, plan.drainMs);
      const cpu = cpuSeconds(pid) - cpu0;
      const loadCpu = pool.pids.reduce((s, p) => s + cpuSeconds(p), 0) - loadCpu0;
      const peakRss = rss.stop();
      const metricsAfter = server.metricsUrl ? await scrapeGatewayMetrics(server.metricsUrl) : undefined;
      const windowMs = deliveryWindowMs(report, run.startedAt, (count / rate) * 1000);
      const result: FanoutResult = {
        server: kind,
        clients,
        connected: connect.connected,
        rate,
        published: count,
        expected,
        delivered: report.delivered,
        duplicates: report.duplicates,
        perClientMin: report.perClientMin,
        deliveredPerSecond: report.delivered / (windowMs / 1000),
        offeredPerSecond: open * rate,
        p50Ms: report.latency.percentile(0.5),
        p99Ms: report.latency.percentile(0.99),
        maxMs: report.latency.max,
        firstClientP50Ms: report.firstLatency.percentile(0.5),
        serverCpuSeconds: cpu,
        serverCpuPer1kDeliveriesMs: report.delivered ? (cpu * 1000 * 1000) / report.delivered : Number.NaN,
        serverCpuPercent: (cpu * 100) / (windowMs / 1000),
        loadGeneratorCpuPer1kDeliveriesMs: report.delivered ? (loadCpu * 1000 * 1000) / report.delivered : Number.NaN,
        baselineRssBytes: baselineRss,
        idleRssPerClientBytes: (idleRss - baselineRss) / Math.max(1, connect.connected),
        loadRssPerClientBytes: (peakRss - baselineRss) / Math.max(1, connect.connected),
        closes: report.closes,
        ...(metricsBefore && metricsAfter
          ? {
              gatewaySendLagP50Ms: sendLagPercentileMs(metricsBefore, metricsAfter, 0.5),
              gatewaySendLagP99Ms: sendLagPercentileMs(metricsBefore, metricsAfter, 0.99),
              gatewaySkippedMessages: metricsAfter.skippedMessages - metricsBefore.skippedMessages,
            }
          : {}),
      };
      plan.log(
        `  ${kind} ${clients} @${rate}/s: ${result.delivered}/${expected} delivered, ${result.deliveredPerSecond.toFixed(0)} msg/s, ` +
          `first ${result.firstClientP50Ms.toFixed(2)} p50 ${result.p50Ms.toFixed(2)} p99 ${result.p99Ms.toFixed(2)} max ${result.maxMs.toFixed(1)} ms, ` +
          `CPU ${result.serverCpuPer1kDeliveriesMs.toFixed(1)} ms/1k${result.gatewaySendLagP99Ms === undefined ? '' : ` (send lag p50 ≤${result.gatewaySendLagP50Ms} p99 ≤${result.gatewaySendLagP99Ms} ms, ${result.gatewaySkippedMessages} skipped)`}, idle ${(result.idleRssPerClientBytes / 1024).toFixed(1)} KiB/client`,
      );
      results.push(result);
    }
  } catch (error) {
    plan.log(`  ${kind} ${clients}: FAILED ${(error as Error).message}`);
    results.push(failedResult(kind, clients, (error as Error).message));
  } finally {
    await pool?.close();
    await server?.publisher.close();
    await server?.process.stop();
    redis.disconnect();
  }
  return results;
}

function failedResult(server: ServerKind, clients: number, error: string): FanoutResult {
  const nan = Number.NaN;
  return {
    server,
    clients,
    connected: 0,
    rate: nan,
    published: 0,
    expected: 0,
    delivered: 0,
    duplicates: 0,
    perClientMin: 0,
    deliveredPerSecond: nan,
    offeredPerSecond: nan,
    p50Ms: nan,
    p99Ms: nan,
    maxMs: nan,
    firstClientP50Ms: nan,
    serverCpuSeconds: nan,
    serverCpuPer1kDeliveriesMs: nan,
    serverCpuPercent: nan,
    loadGeneratorCpuPer1kDeliveriesMs: nan,
    baselineRssBytes: nan,
    idleRssPerClientBytes: nan,
    loadRssPerClientBytes: nan,
    closes: {},
    error,
  };
}
