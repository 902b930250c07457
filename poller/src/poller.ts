import { Agent, type Dispatcher } from 'undici';
import { systemClock, type Clock } from '@matomo-live/protocol';
import type { Logger, PollerConfig, SnapshotPublisher } from '@matomo-live/shared';
import { buildBulkRequest, type BulkRequest, type SiteSlots } from './bulk-request';
import { HeartbeatLoop } from './heartbeat-loop';
import { LeaseLoop } from './lease-loop';
import type { TodayWindow } from './live-today';
import { estimateMatomoOffset, offsetChanged } from './matomo-clock';
import { MatomoRequestError, postBulkRequest, type BulkAnswer } from './matomo-client';
import { partStreaks, type PollerMetrics } from './poller-metrics';
import type { Poller, PollerStatus } from './poller-status';
import { publishSite, type PublishDeps } from './publish-step';
import type { LeaseManager } from './redis-lease';
import { readSiteAnswer, type TickTimes } from './site-answer';
import { createSiteState, loadCursors, noteAttempt, siteStatus, type SiteState } from './site-state';
import { PublishError, TickFailure } from './tick-failure';
import { afterTick, initialTickHealth, type TickHealth } from './tick-health';
import { planSite, type CursorPlan } from './tick-plan';

export type { FailingPart, Poller, PollerStatus, SiteEventsStatus, SiteStatus, TickFailureKind } from './poller-status';

/** Knobs tests turn; production uses the defaults. */
export interface PollerTiming {
  /** Ceiling of the first retry delay after a failure, ms. Default min(FETCH_INTERVAL, 1000). */
  backoffBaseMs: number;
  /** Longest retry delay after failures (auth refusals aside), ms. Default 5000. */
  backoffCapMs: number;
  /**
   * Token refusals in a row before slowing down. Default 1: Matomo blocks an IP after 20 failed logins within an
   * hour, and a refused token is not a passing fault, so the budget goes to retries spread over the hour.
   */
  authRefusalsBeforeBlock: number;
  /** While the token is refused or the IP blocked: one attempt per this long, ms. Default 300000 (≤ 12 failed logins an hour). */
  authRetryMs: number;
  /** /healthz turns 503 when failing for this long, ms. Default max(60000, 3 × FETCH_INTERVAL). */
  unhealthyAfterMs: number;
  /** Lease renew/acquire period, ms. Default LEASE_TTL / 3. */
  leaseRefreshMs: number;
  /**
   * Heartbeats of the led sites: after each tick, and at least once per this long, ms. Default min(FETCH_INTERVAL, 5000).
   * 0: after ticks only (tests whose hand-driven clock counts the pending timers).
   */
  heartbeatMs: number;
  /** Randomness of the jitter. Default Math.random. */
  random: () => number;
}

export interface PollerOptions {
  config: PollerConfig;
  publisher: SnapshotPublisher;
  /** Leadership per site; absent ⇒ this poller always leads every site (single process). */
  leases?: LeaseManager;
  logger: Logger;
  /** HTTP to Matomo. Default: a keep-alive undici Agent owned (and closed) by the poller. */
  dispatcher?: Dispatcher;
  /** Default the system clock. */
  clock?: Clock;
  /** Default: see PollerTiming. */
  timing?: Partial<PollerTiming>;
  /** Prometheus metrics (poller-metrics.ts); absent ⇒ none are kept. */
  metrics?: PollerMetrics;
}

export function createPoller(options: PollerOptions): Poller {
  return new SnapshotPoller(options);
}

/** Where the auth-block log lines point. */
const AUTH_DOCS = 'docs/POLLER.md#a-refused-token-a-blocked-ip';

/** Start, stop and the tick; the per-site work lives in the modules imported above. */
class SnapshotPoller implements Poller {
  private readonly config: PollerConfig;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly timing: PollerTiming;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private readonly sites = new Map<number, SiteState>();
  private readonly leaseLoop: LeaseLoop | undefined;
  private readonly publishDeps: PublishDeps;
  private readonly heartbeats: HeartbeatLoop;
  private running = false;
  private stopped = false;
  private tickTimer: unknown;
  private inFlight: Promise<void> | undefined;
  private abort = new AbortController();
  private counters = { requests: 0, published: 0 };
  /** Matomo's clock minus ours, ms (0 while within CLOCK_TOLERANCE_MS). */
  private matomoOffsetMs = 0;
  private readonly eventsEnabled: boolean;
  private health: TickHealth = initialTickHealth();
  private startedAt = 0;
  private lastAttemptAt: number | undefined;
  private nextAttemptAt: number | undefined;

  constructor(private readonly options: PollerOptions) {
    this.config = options.config;
    this.clock = options.clock ?? systemClock;
    this.log = options.logger;
    const interval = this.config.fetchIntervalMs;
    this.timing = {
      backoffBaseMs: Math.min(interval, 1000),
      backoffCapMs: 5000,
      authRefusalsBeforeBlock: 1,
      authRetryMs: 300_000,
      unhealthyAfterMs: Math.max(60_000, 3 * interval),
      leaseRefreshMs: Math.max(1, Math.floor(this.config.leaseTtlMs / 3)),
      heartbeatMs: Math.min(interval, 5000),
      random: Math.random,
      ...options.timing,
    };
    this.eventsEnabled = this.config.eventsRetentionMs > 0;
    this.ownsDispatcher = options.dispatcher === undefined;
    this.dispatcher = options.dispatcher ?? new Agent({ keepAliveTimeout: 30_000, connections: 2 });
    for (const siteId of this.config.siteIds) this.sites.set(siteId, createSiteState(this.config.liveLimit, Boolean(options.leases)));
    this.leaseLoop =
      options.leases &&
      new LeaseLoop({
        leases: options.leases,
        sites: this.sites,
        clock: this.clock,
        log: this.log,
        refreshMs: this.timing.leaseRefreshMs,
        isRunning: () => this.running,
        onWon: () => {
          if (this.inFlight === undefined) this.scheduleTick(0);
        },
      });
    this.publishDeps = {
      publisher: options.publisher,
      leaseOwner: options.leases?.owner,
      clock: this.clock,
      log: this.log,
      config: this.config,
      onPublished: () => this.counters.published++,
    };
    this.heartbeats = new HeartbeatLoop({
      publisher: options.publisher,
      sites: this.sites,
      clock: this.clock,
      log: this.log,
      fetchIntervalMs: interval,
      periodMs: this.timing.heartbeatMs,
      authBlocked: () => this.health.authBlocked,
      onPublished: (result) => options.metrics?.heartbeatPublished(result),
    });
    options.metrics?.watch(() => ({ sites: this.sites, eventsEnabled: this.eventsEnabled, matomoOffsetMs: this.matomoOffsetMs }));
  }

  async start(): Promise<void> {
    if (this.running) return;
    if (this.stopped) throw new Error('this poller was stopped; create a new one');
    this.running = true;
    this.abort = new AbortController();
    this.startedAt = this.clock.now();
    this.log.info(
      {
        sites: this.config.siteIds,
        fetchIntervalMs: this.config.fetchIntervalMs,
        todayIntervalMs: this.config.todayIntervalMs,
        summaryIntervalMs: this.config.summaryIntervalMs,
        leased: Boolean(this.options.leases),
      },
      'poller starting',
    );
    if (this.leaseLoop) await this.leaseLoop.run();
    // stop() may have come during the first lease round: it stopped a loop that had not started yet.
    if (!this.running) return;
    this.heartbeats.start();
    this.scheduleTick(0);
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.stopped = true;
    this.clock.clearTimeout(this.tickTimer);
    const leaseRound = this.leaseLoop?.stop();
    this.abort.abort();
    await Promise.all([this.inFlight, leaseRound, this.heartbeats.stop()]);
    await this.leaseLoop?.releaseHeld();
    if (this.ownsDispatcher) await this.dispatcher.close();
    this.log.info('poller stopped');
  }

  status(): PollerStatus {
    const now = this.clock.now();
    const h = this.health;
    const failingSince = h.lastSuccessAt ?? this.startedAt;
    const iso = (t: number | undefined) => (t === undefined ? null : new Date(t).toISOString());
    return {
      running: this.running,
      healthy: this.running && !h.authBlocked && !(h.consecutiveFailures > 0 && now - failingSince > this.timing.unhealthyAfterMs),
      lastSuccessAt: iso(h.lastSuccessAt),
      lastAttemptAt: iso(this.lastAttemptAt),
      consecutiveFailures: h.consecutiveFailures,
      lastError: h.lastError,
      authBlocked: h.authBlocked,
      authBlockedReason: h.authBlockedReason,
      matomoClockOffsetSeconds: Math.round(this.matomoOffsetMs / 1000),
      nextAttemptAt: iso(this.nextAttemptAt),
      requests: this.counters.requests,
      published: this.counters.published,
      sites: [...this.sites].map(([siteId, s]) => siteStatus(siteId, s, now, this.eventsEnabled)),
    };
  }

  private scheduleTick(delayMs: number): void {
    if (!this.running) return;
    this.clock.clearTimeout(this.tickTimer);
    this.nextAttemptAt = this.clock.now() + delayMs;
    this.tickTimer = this.clock.setTimeout(() => {
      this.inFlight = this.tick().finally(() => (this.inFlight = undefined));
    }, delayMs);
  }

  private async tick(): Promise<void> {
    const startedAt = this.clock.now();
    this.options.metrics?.tickStarted();
    const led = [...this.sites].filter(([, s]) => this.clock.now() < s.leaderUntil);
    if (led.length === 0) return this.scheduleTick(this.config.fetchIntervalMs);
    this.lastAttemptAt = startedAt;
    const failures: TickFailure[] = [];
    let published = 0;
    let asked = false;
    try {
      await loadCursors(led, Math.floor((startedAt + this.matomoOffsetMs) / 1000), {
        publisher: this.options.publisher,
        log: this.log,
        eventsRetentionMs: this.config.eventsRetentionMs,
      });
      if (!this.running) return;
      const windows = new Map<number, TodayWindow>();
      const plans = new Map<number, CursorPlan>();
      const queries = led.map(([siteId, s]) => {
        const plan = planSite(siteId, s, startedAt, this.matomoOffsetMs, this.config, this.timing.backoffBaseMs);
        if (plan.todayWindow) windows.set(siteId, plan.todayWindow);
        if (plan.cursor) plans.set(siteId, plan.cursor);
        return plan.query;
      });
      const bulk = buildBulkRequest(queries, this.config.matomoToken);
      this.counters.requests++;
      asked = true;
      const { answers, serverDateMs } = await this.ask(bulk);
      const receivedAt = this.clock.now();
      this.learnMatomoClock(serverDateMs, startedAt, receivedAt);
      // Matomo computed its answer somewhere between sending and receiving.
      const times = { askedAt: startedAt, now: receivedAt, matomoNow: (startedAt + receivedAt) / 2 + this.matomoOffsetMs };
      // In parallel: in a Redis Cluster a site whose shard is failing over must not hold up the others' publishes.
      const outcomes = await Promise.all(
        bulk.slots.map((slots) => this.handleSite(slots, answers, bulk.methods, times, windows.get(slots.siteId), plans.get(slots.siteId))),
      );
      for (const failure of outcomes) {
        if (failure) failures.push(failure);
        else published++;
      }
    } catch (error) {
      if (!this.running) return;
      const failure = TickFailure.of(error, error instanceof MatomoRequestError ? error.kind : undefined);
      failures.push(failure);
      // The request failed as a whole: every site asked about failed with it.
      for (const [, state] of led) noteAttempt(state, this.clock.now(), failure);
    }
    if (!this.running) return;
    if (asked) this.options.metrics?.tickDone((this.clock.now() - startedAt) / 1000);
    this.finishTick(failures, published, startedAt);
  }

  /** The tick's one Matomo request, timed for the metrics. */
  private async ask(bulk: BulkRequest): Promise<BulkAnswer> {
    const sentAt = this.clock.now();
    const seconds = () => (this.clock.now() - sentAt) / 1000;
    try {
      const answer = await postBulkRequest(
        bulk,
        { baseUrl: this.config.matomoUrl, dispatcher: this.dispatcher, timeoutMs: this.config.matomoTimeoutMs },
        this.abort.signal,
      );
      this.options.metrics?.matomoRequest(bulk.slots, seconds());
      return answer;
    } catch (error) {
      // A request aborted by stop() is no failure of Matomo's.
      if (this.running)
        this.options.metrics?.matomoRequest(bulk.slots, seconds(), error instanceof MatomoRequestError ? error.kind : 'network');
      throw error;
    }
  }

  /** "Today" windows follow Matomo's clock (it resolves lastMinutes and date=today in its own). */
  private learnMatomoClock(serverDateMs: number | undefined, sentAt: number, receivedAt: number): void {
    const offset = estimateMatomoOffset(serverDateMs, sentAt, receivedAt);
    if (offset === undefined) return;
    if (offsetChanged(this.matomoOffsetMs, offset)) {
      this.log.warn(
        { offsetSeconds: Math.round(offset / 1000), docs: 'docs/POLLER.md#live-today' },
        offset === 0 ? "Matomo's clock agrees with ours again" : "Matomo's clock differs from ours; check NTP on both hosts",
      );
    }
    this.matomoOffsetMs = offset;
  }

  /** Reads one site's answer and publishes it; the failure when the site could not be published, else undefined. */
  private async handleSite(
    slots: SiteSlots,
    answers: unknown[],
    methods: string[],
    times: TickTimes,
    askedToday: TodayWindow | undefined,
    plan: CursorPlan | undefined,
  ): Promise<TickFailure | undefined> {
    const { siteId } = slots;
    const state = this.sites.get(siteId)!;
    const streaks = partStreaks(state);
    const outcome = readSiteAnswer({ slots, answers, methods, times, askedToday, plan }, state, this.config, this.log);
    this.options.metrics?.partsRead(streaks, state);
    if ('failure' in outcome) return this.siteFailed(state, outcome.failure);
    try {
      const done = await publishSite(this.publishDeps, siteId, state, outcome.content, times.now, outcome.step);
      this.options.metrics?.siteOutcome(siteId, done);
      state.lastError = undefined;
      noteAttempt(state, this.clock.now(), undefined);
      return undefined;
    } catch (error) {
      const failure = error instanceof PublishError ? TickFailure.of(error, 'publish', 'publish: ') : TickFailure.of(error, undefined);
      return this.siteFailed(state, failure);
    }
  }

  private siteFailed(state: SiteState, failure: TickFailure): TickFailure {
    state.lastError = failure.message;
    noteAttempt(state, this.clock.now(), failure);
    return failure;
  }

  /** Health bookkeeping (tick-health.ts decides), its log line, and the next tick. */
  private finishTick(failures: TickFailure[], published: number, startedAt: number): void {
    const { timing } = this;
    const result = { failures, published, startedAt, now: this.clock.now() };
    const policy = { ...timing, fetchIntervalMs: this.config.fetchIntervalMs };
    const { health, verdict } = afterTick(this.health, result, policy);
    this.health = health;
    const first = failures[0];
    switch (verdict.kind) {
      case 'ok':
        if (verdict.recoveredFrom > 0) this.log.info({ failures: verdict.recoveredFrom }, 'Matomo polling recovered');
        break;
      case 'auth-blocked':
        this.log.error(
          {
            kind: verdict.auth,
            refusals: health.authRefusals,
            retryInMs: verdict.delayMs,
            matomoUrl: this.config.matomoUrl,
            docs: AUTH_DOCS,
          },
          verdict.auth === 'auth'
            ? 'Matomo refuses the token (check MATOMO_TOKEN); one attempt per retryInMs'
            : 'Matomo blocks this IP (too many failed logins); one attempt per retryInMs',
        );
        break;
      case 'partial':
      case 'failed': {
        // An internal failure is a bug: always worth its stack at error level (still only as often as the warnings).
        const level = !verdict.loud ? 'debug' : first!.kind === 'internal' ? 'error' : 'warn';
        const fields = { kind: first!.kind, err: first, failures: health.consecutiveFailures };
        if (verdict.kind === 'partial') this.log[level]({ ...fields, sites: failures.length }, 'site(s) not published');
        else this.log[level]({ ...fields, retryInMs: verdict.delayMs }, 'tick failed; nothing published');
        break;
      }
    }
    this.scheduleTick(verdict.delayMs);
    // After the health above: an auth block shows in this very heartbeat.
    this.heartbeats.beat();
  }
}
