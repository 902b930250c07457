import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { CLOSE_CODE_RULES } from '@matomo-live/protocol';
import type { FeedStats } from '@matomo-live/shared';
import { SentTally } from './sent-tally';

/** Every `reason` of matomo_live_gateway_auth_failures_total (admission/ and gateway.ts name them). */
export const REFUSAL_REASONS = [
  'draining',
  'not-ready',
  'rebalancing',
  'origin',
  'accept-rate',
  'ip-rate',
  'missing',
  'invalid',
  'expired',
  'unknown-site',
  'site-not-allowed',
  'bad-fields',
  'bad-events',
  'bad-status',
  'max-connections',
  'token-connections',
] as const;

/** The gateway's Prometheus metrics, on a registry of their own (several gateways may share a process). */
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly connections = new Gauge({
    name: 'matomo_live_gateway_connections',
    help: 'Open WebSocket connections',
    labelNames: ['site'],
    registers: [this.registry],
  });
  /** Snapshot writes, tallied per client write and folded into the counters below when scraped. */
  readonly sent = new SentTally();
  readonly messagesSent: Counter = new Counter({
    name: 'matomo_live_gateway_messages_sent_total',
    help: 'Snapshot messages written to clients',
    registers: [this.registry],
    collect: (): void => this.sent.fold('messages', this.messagesSent),
  });
  readonly bytesSent: Counter = new Counter({
    name: 'matomo_live_gateway_bytes_sent_total',
    help: 'Snapshot bytes (frames) written to clients',
    registers: [this.registry],
    collect: (): void => this.sent.fold('bytes', this.bytesSent),
  });
  readonly slowClientCloses = new Counter({
    name: 'matomo_live_gateway_slow_client_closes_total',
    help: 'Clients closed with 4005 (slow consumer)',
    registers: [this.registry],
  });
  readonly skippedMessages = new Counter({
    name: 'matomo_live_gateway_skipped_messages_total',
    help: 'Snapshots a busy client skipped (latest-wins)',
    registers: [this.registry],
  });
  readonly authFailures = new Counter({
    name: 'matomo_live_gateway_auth_failures_total',
    help: 'Refused connections by reason',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly clientCloses = new Counter({
    name: 'matomo_live_gateway_closes_total',
    help: 'Connections the gateway closed, by code',
    labelNames: ['code'],
    registers: [this.registry],
  });
  readonly rebalanceShed = new Counter({
    name: 'matomo_live_gateway_rebalance_shed_total',
    help: 'Clients closed (1001 with a reconnect hint) because this gateway held more than its fair share of the fleet',
    registers: [this.registry],
  });
  readonly maxConnections = new Gauge({
    name: 'matomo_live_gateway_max_connections',
    help: "The process's MAX_CONNECTIONS (new connections beyond it are closed with 1013)",
    registers: [this.registry],
  });
  readonly fleetGateways = new Gauge({
    name: 'matomo_live_gateway_fleet_gateways',
    help: 'Gateways sharing their connection counts through Redis (this one included); 0 until the first report or with REBALANCE=off',
    registers: [this.registry],
  });
  readonly fleetFairShare = new Gauge({
    name: 'matomo_live_gateway_fleet_fair_share',
    help: "The fleet's connections (plus clients in flight) per gateway not draining",
    registers: [this.registry],
  });
  /** Read at scrape time; set by the gateway. */
  feedReadiness: () => boolean = () => false;
  readonly feedReady: Gauge = new Gauge({
    name: 'matomo_live_gateway_feed_ready',
    help: '1 while the snapshot feed (Redis) is subscribed',
    registers: [this.registry],
    collect: (): void => this.feedReady.set(this.feedReadiness() ? 1 : 0),
  });
  /** Read at scrape time; set by the gateway. */
  feedStats: () => FeedStats | undefined = () => undefined;
  private readonly reportedFeed = new Map<string, number>();
  readonly feedGapsHealed: Counter = new Counter({
    name: 'matomo_live_gateway_feed_gaps_healed_total',
    help: 'Snapshots re-read from Redis because the stored seq was ahead of the last delivered one and no message came (a lost pub/sub message)',
    labelNames: ['site'],
    registers: [this.registry],
    collect: (): void => {
      for (const [site, n] of Object.entries(this.feedStats()?.gapsHealed ?? {}))
        this.foldFeed(this.feedGapsHealed, `gaps:${site}`, n, { site });
    },
  });
  readonly feedResubscribes: Counter = new Counter({
    name: 'matomo_live_gateway_feed_resubscribes_total',
    help: 'Channel subscriptions made again because gaps kept being found on them',
    registers: [this.registry],
    collect: (): void => this.foldFeed(this.feedResubscribes, 'resubscribes', this.feedStats()?.resubscribes),
  });
  readonly feedResyncs: Counter = new Counter({
    name: 'matomo_live_gateway_feed_resyncs_total',
    help: 'Re-subscriptions and re-reads of every site after a Redis reconnect or failover',
    registers: [this.registry],
    collect: (): void => this.foldFeed(this.feedResyncs, 'resyncs', this.feedStats()?.resyncs),
  });
  readonly feedSeqChecks: Counter = new Counter({
    name: 'matomo_live_gateway_feed_seq_checks_total',
    help: "Reads of a site's stored seq (REDIS_SEQ_CHECK_INTERVAL)",
    registers: [this.registry],
    collect: (): void => this.foldFeed(this.feedSeqChecks, 'seqChecks', this.feedStats()?.seqChecks),
  });
  readonly feedSeqCheckErrors: Counter = new Counter({
    name: 'matomo_live_gateway_feed_seq_check_errors_total',
    help: 'Seq checks (or their re-reads) that failed: Redis unreachable or failing over',
    registers: [this.registry],
    collect: (): void => this.foldFeed(this.feedSeqCheckErrors, 'seqCheckErrors', this.feedStats()?.seqCheckErrors),
  });
  readonly broadcastFastPath = new Gauge({
    name: 'matomo_live_gateway_broadcast_fast_path',
    help: '1 when broadcasts write one shared frame to every socket, 0 when they go through ws.send (BROADCAST_FAST_PATH=false, or ws internals changed)',
    registers: [this.registry],
  });
  readonly lastSeq = new Gauge({
    name: 'matomo_live_gateway_last_seq',
    help: 'Last snapshot seq per site',
    labelNames: ['site'],
    registers: [this.registry],
  });
  readonly siteStale = new Gauge({
    name: 'matomo_live_gateway_site_stale',
    help: "1 while a site's data is stale (as the status messages say), 0 while live; no series until known (at most 15 s after start)",
    labelNames: ['site'],
    registers: [this.registry],
  });
  readonly siteStaleReason = new Gauge({
    name: 'matomo_live_gateway_site_stale_reason',
    help: 'Why a site is stale: 1 on the series of its current reason while stale, no series while live',
    labelNames: ['site', 'reason'],
    registers: [this.registry],
  });
  readonly snapshotsReceived = new Counter({
    name: 'matomo_live_gateway_snapshots_received_total',
    help: 'Snapshots received from the feed, by outcome',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  readonly sendLag = new Histogram({
    name: 'matomo_live_gateway_send_lag_seconds',
    help: 'From receiving a snapshot to writing it to the last client socket of its broadcast; a client written later (its previous write still pending) counts on its own',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  /** updated_at is when the poller first saw the content, not a publish timestamp: hence "age", not "publish lag". */
  readonly contentAge = new Histogram({
    name: 'matomo_live_gateway_content_age_seconds',
    help: "Age of a snapshot's content (now - updated_at) when it reaches the gateway: Matomo answer to poller to Redis to here",
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  constructor({ defaultMetrics = false }: { defaultMetrics?: boolean } = {}) {
    // Process metrics only for a real process; tests run several gateways in one.
    // Event-loop lag sampled every 100 ms, not prom-client's 10 ms: the finer
    // histogram timer cost ~8% of the fan-out throughput in the benchmark.
    if (defaultMetrics) {
      collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 100 });
      // Gauges named *_total, which `promtool check metrics` rejects (a gauge is no counter).
      for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'])
        this.registry.removeSingleMetric(name);
    }
  }

  /**
   * MAX_CONNECTIONS, and every known label value of the labelled counters at
   * 0: a panel or a rate() then shows 0, not "No data", before the first
   * close, refusal or healed gap.
   */
  initialise({ maxConnections, siteIds }: { maxConnections: number; siteIds: readonly number[] }): void {
    this.maxConnections.set(maxConnections);
    for (const code of Object.keys(CLOSE_CODE_RULES)) this.clientCloses.inc({ code }, 0);
    for (const reason of REFUSAL_REASONS) this.authFailures.inc({ reason }, 0);
    for (const siteId of siteIds) this.feedGapsHealed.inc({ site: String(siteId) }, 0);
  }

  /** Adds to `counter` what the feed counted since the last scrape. */
  private foldFeed(counter: Counter, key: string, total: number | undefined, labels?: Record<string, string>): void {
    if (total === undefined) return;
    const delta = total - (this.reportedFeed.get(key) ?? 0);
    if (delta > 0) {
      if (labels) counter.inc(labels, delta);
      else counter.inc(delta);
    }
    this.reportedFeed.set(key, total);
  }
}
