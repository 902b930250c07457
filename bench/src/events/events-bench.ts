/**
 * Visit events benchmark (`--only=events`): how many visit events per second
 * one gateway process pushes to N `?events=visits` clients, and how many bytes
 * an events client receives per visit against a client that follows the
 * visits through snapshots.
 *
 * 1. Store a realistic snapshot; start the gateway; connect N events clients
 *    (load-generator processes, the fan-out bench's, so the same client code).
 * 2. For each rate: append `rate × durationS` events through the poller's own
 *    publish script (RedisSnapshotPublisher with events, batches of
 *    `rate / 10` every 100 ms: a site whose visits arrive in bursts), each
 *    visit carrying a seq and its send time; wait until every client has every
 *    event (or `drainMs` passes); read deliveries, latency, gateway CPU.
 * 3. Bytes: the gateway's own count of event bytes and messages sent, against
 *    the snapshot (5 latest visits, summary, counters) a client without events
 *    receives for each change.
 */
import Redis from 'ioredis';
import type { SnapshotContent } from '@matomo-live/protocol';
import { contentDigest, encodeSnapshot, type EventsWrite } from '@matomo-live/shared';
import { RedisSnapshotPublisher } from '@matomo-live/poller';
import { setTimeout as sleep } from 'node:timers/promises';
import { BENCH_TOKEN } from '../fanout/fanout-bench';
import { deliveryWindowMs, LoadGeneratorPool } from '../common/load-generator-pool';
import { startGateway } from '../common/matomo-stack';
import { benchDay, benchVisit, monotonicMs, SENT_AT_FIELD } from '../common/payload';
import { cpuSeconds } from '../common/proc-stats';

export interface EventsPlan {
  /** Events clients per run. */
  sizes: number[];
  /** Visit events per second. */
  rates: number[];
  /** Seconds of publishing per rate. */
  durationS: number;
  /** Longest wait for stragglers after the last publish, ms. */
  drainMs: number;
  redisUrl: string;
  root: string;
  log: (line: string) => void;
}

export interface EventsRunResult {
  clients: number;
  connected: number;
  /** Offered visit events per second. */
  rate: number;
  published: number;
  expected: number;
  delivered: number;
  duplicates: number;
  /** Fewest events one client got, of `published`. */
  perClientMin: number;
  /** Deliveries / max(last receipt − first publish, published / rate). */
  deliveredPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Gateway CPU share of one core over the window, %. */
  gatewayCpuPercent: number;
  gatewayCpuPer1kEventsMs: number;
  closes: Record<string, number>;
  error?: string;
}

export interface EventsBytes {
  /** Mean visit event frame the gateway wrote (its own metrics). */
  eventFrameBytes: number;
  /** The snapshot frame a client without events gets for each change (5 latest visits, summary, counters). */
  snapshotFrameBytes: number;
  /** Live visits in that snapshot. */
  liveLimit: number;
}

export interface EventsResult {
  runs: EventsRunResult[];
  bytes: EventsBytes | undefined;
}

const SITE = 1;
const LIVE_LIMIT = 5;

/** The snapshot of a site with steady traffic: LIVE_LIMIT visits, three days, counters. */
function benchContent(): SnapshotContent {
  return {
    visits_live: Array.from({ length: LIVE_LIMIT }, (_, i) => benchVisit(i)),
    summary: { today: benchDay('2026-11-29', 512), yesterday: benchDay('2026-11-28', 1024), day_before: benchDay('2026-11-27', 998) },
    counters: { minutes: 30, visits: 17, actions: 52, visitors: 15, visits_converted: 1 },
    site: SITE,
    timezone: 'Europe/Paris',
  };
}

/** A server-to-client WebSocket frame's size for a payload (unmasked: 2, 4 or 10 header bytes). */
function frameBytes(payload: number): number {
  return payload + (payload < 126 ? 2 : payload < 65_536 ? 4 : 10);
}

/** The gateway's event counters from /metrics. */
async function eventCounters(url: string): Promise<{ messages: number; bytes: number }> {
  const text = await (await fetch(url)).text();
  const value = (name: string) => Number(new RegExp(`^${name} ([0-9.e+-]+)$`, 'm').exec(text)?.[1] ?? NaN);
  return { messages: value('matomo_live_gateway_events_sent_total'), bytes: value('matomo_live_gateway_event_bytes_sent_total') };
}

/** Appends events the way the poller does: one atomic publish per batch, the cursor version followed. */
class EventWriter {
  private version = 0;
  private seq: number;
  private readonly digest: string;
  private readonly bytes: Buffer;

  constructor(
    private readonly publisher: RedisSnapshotPublisher,
    content: SnapshotContent,
    firstSeq: number,
  ) {
    this.seq = firstSeq;
    this.digest = contentDigest(content);
    this.bytes = encodeSnapshot(content, firstSeq, new Date());
  }

  async seed(): Promise<void> {
    await this.publisher.publish(SITE, { digest: this.digest, seq: this.seq, bytes: this.bytes });
  }

  /** Writes `count` visit events, numbered from `firstEventSeq`, stamped with the send time. */
  async write(firstEventSeq: number, count: number): Promise<void> {
    const sentAt = monotonicMs().toFixed(3);
    const entries = Array.from({ length: count }, (_, k) => {
      const n = firstEventSeq + k;
      // seq and the send time go last: the load generators read the last occurrence, without parsing.
      return { kind: 'visit' as const, data: JSON.stringify({ ...benchVisit(n), idVisit: n, seq: n, [SENT_AT_FIELD]: sentAt }) };
    });
    const events: EventsWrite = {
      entries,
      cursor: { expectedVersion: this.version, after: Math.floor(Date.now() / 1000), offset: 0, set: [], forget: [] },
      retentionMs: 1_800_000,
      maxLen: 10_000,
    };
    // Same digest: the snapshot stays, the events are written (what a tick with new visits beyond the latest five does).
    const outcome = await this.publisher.publish(SITE, { digest: this.digest, seq: ++this.seq, bytes: this.bytes, events });
    if (outcome.kind !== 'unchanged' && outcome.kind !== 'published') throw new Error(`publish: ${outcome.kind}`);
    this.version = outcome.events!.cursorVersion;
  }
}

/** A site's snapshot stored and a gateway started on it; event seqs start above the snapshot's (so it is not counted). */
async function startSite(plan: EventsPlan, prefix: string) {
  const redis = new Redis(plan.redisUrl);
  const content = benchContent();
  const writer = new EventWriter(new RedisSnapshotPublisher(redis, prefix), content, 1_000);
  await writer.seed();
  const gateway = await startGateway(plan.root, { redisUrl: plan.redisUrl, prefix, token: BENCH_TOKEN });
  return { redis, writer, gateway, content };
}

async function runSize(clients: number, plan: EventsPlan, prefix: string): Promise<EventsRunResult[]> {
  const { redis, writer, gateway } = await startSite(plan, prefix);
  const pool = new LoadGeneratorPool(2);
  const results: EventsRunResult[] = [];
  try {
    const url = `ws://127.0.0.1:${gateway.port}/?token=${BENCH_TOKEN}&events=visits`;
    const { connected, errors } = await pool.connect({ url, count: clients });
    if (connected < clients) plan.log(`events: ${connected}/${clients} connected (${errors.join('; ')})`);
    await sleep(1000);
    let next = 10_000;
    for (const rate of plan.rates) {
      const batch = Math.max(1, Math.round(rate / 10));
      const batches = Math.max(1, Math.round((rate * plan.durationS) / batch));
      const published = batch * batches;
      await pool.startMeasuring(next);
      const cpuBefore = cpuSeconds(gateway.process.pid);
      const started = monotonicMs();
      for (let b = 0; b < batches; b++) {
        await writer.write(next, batch);
        next += batch;
        const due = started + ((b + 1) * 1000 * batch) / rate;
        const wait = due - monotonicMs();
        if (wait > 0) await sleep(wait);
      }
      const expected = published * connected;
      const report = await pool.drain(expected, plan.drainMs);
      const cpu = cpuSeconds(gateway.process.pid) - cpuBefore;
      const window = deliveryWindowMs(report, started, (published / rate) * 1000) / 1000;
      results.push({
        clients,
        connected,
        rate,
        published,
        expected,
        delivered: report.delivered,
        duplicates: report.duplicates,
        perClientMin: report.perClientMin,
        deliveredPerSecond: report.delivered / window,
        p50Ms: report.latency.percentile(0.5),
        p99Ms: report.latency.percentile(0.99),
        gatewayCpuPercent: (cpu / window) * 100,
        gatewayCpuPer1kEventsMs: report.delivered > 0 ? (cpu * 1e6) / report.delivered : Number.NaN,
        closes: report.closes,
      });
      plan.log(
        `events: ${clients} clients, ${rate}/s: ${report.delivered}/${expected} delivered, ${(report.delivered / window).toFixed(0)} events/s, p99 ${report.latency.percentile(0.99).toFixed(1)} ms`,
      );
    }
  } finally {
    await pool.close();
    await gateway.process.stop();
    redis.disconnect();
  }
  return results;
}

/** The bytes an events client and a snapshot client get per visit: one small gateway, 10 clients, 200 events. */
async function measureBytes(plan: EventsPlan, prefix: string): Promise<EventsBytes> {
  const { redis, writer, gateway, content } = await startSite(plan, prefix);
  const pool = new LoadGeneratorPool(1);
  try {
    const metricsUrl = `http://127.0.0.1:${gateway.port}/metrics`;
    await pool.connect({ url: `ws://127.0.0.1:${gateway.port}/?token=${BENCH_TOKEN}&events=visits`, count: 10 });
    await pool.startMeasuring(10_000);
    const before = await eventCounters(metricsUrl);
    for (let b = 0; b < 20; b++) await writer.write(10_000 + b * 10, 10);
    for (let i = 0; i < 50 && (await pool.report()).delivered < 2000; i++) await sleep(100);
    const after = await eventCounters(metricsUrl);
    const snapshot = encodeSnapshot(content, Date.now(), new Date());
    return {
      eventFrameBytes: (after.bytes - before.bytes) / (after.messages - before.messages),
      snapshotFrameBytes: frameBytes(snapshot.length),
      liveLimit: LIVE_LIMIT,
    };
  } finally {
    await pool.close();
    await gateway.process.stop();
    redis.disconnect();
  }
}

export async function runEventsBench(plan: EventsPlan): Promise<EventsResult> {
  const runs: EventsRunResult[] = [];
  for (const clients of plan.sizes) {
    const prefix = `bench-events-${clients}-${Date.now()}:`;
    plan.log(`events: ${clients} events clients, rates ${plan.rates.join(', ')}/s`);
    try {
      runs.push(...(await runSize(clients, plan, prefix)));
    } catch (error) {
      plan.log(`events: ${clients} clients failed: ${(error as Error).message}`);
      runs.push({
        clients,
        connected: 0,
        rate: 0,
        published: 0,
        expected: 0,
        delivered: 0,
        duplicates: 0,
        perClientMin: 0,
        deliveredPerSecond: 0,
        p50Ms: NaN,
        p99Ms: NaN,
        gatewayCpuPercent: NaN,
        gatewayCpuPer1kEventsMs: NaN,
        closes: {},
        error: (error as Error).message,
      });
    }
  }
  let bytes: EventsBytes | undefined;
  try {
    bytes = await measureBytes(plan, `bench-events-bytes-${Date.now()}:`);
  } catch (error) {
    plan.log(`events: bytes measurement failed: ${(error as Error).message}`);
  }
  return { runs, bytes };
}
