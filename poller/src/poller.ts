import { Agent, type Dispatcher } from 'undici';
import { backoffDelay, systemClock, type Clock, type SnapshotContent, type Summary } from '@matomo-live/protocol';
import {
  contentDigest,
  encodeSnapshot,
  localDate,
  type Logger,
  type PollerConfig,
  type SiteTimezone,
  type SnapshotPublisher,
} from '@matomo-live/shared';
import { buildBulkRequest, type SiteQuery, type SiteSlots } from './bulk-request';
import { AnswerShapeError, readCounters, readSiteTimezone, readSummary, readVisits } from './matomo-answers';
import { errorMessage, MatomoRequestError, postBulkRequest, type MatomoFailureKind } from './matomo-client';
import type { LeaseManager } from './redis-lease';

/** Knobs tests turn; production uses the defaults. */
export interface PollerTiming {
  /** Ceiling of the first retry delay after a failure, ms. Default min(FETCH_INTERVAL, 1000). */
  backoffBaseMs: number;
  /** Longest retry delay after failures (auth refusals aside), ms. Default 5000. */
  backoffCapMs: number;
  /** Token refusals in a row before slowing down. Default 3. */
  authRefusalsBeforeBlock: number;
  /** While the token is refused: one attempt per this long, ms. Default 300000 (Matomo blocks an IP after 20 failed logins an hour). */
  authRetryMs: number;
  /** /healthz turns 503 when failing for this long, ms. Default max(60000, 3 × FETCH_INTERVAL). */
  unhealthyAfterMs: number;
  /** Lease renew/acquire period, ms. Default LEASE_TTL / 3. */
  leaseRefreshMs: number;
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
}

/**
 * Why a tick failed: a Matomo failure kind, `publish` (the publisher, i.e.
 * Redis, refused or failed), or `internal` (an exception nothing expected: a
 * bug, logged at error level with its stack).
 */
export type TickFailureKind = MatomoFailureKind | 'publish' | 'internal';

export interface SiteStatus {
  siteId: number;
  leader: boolean;
  /** The site's timezone once known. */
  timezone: string | null;
  /** seq of the snapshot stored in Redis as last seen (published or found unchanged). */
  seq: number | null;
  lastPublishedAt: string | null;
  lastError: string | null;
}

export interface PollerStatus {
  running: boolean;
  /** false when the token is refused or polling has failed for unhealthyAfterMs. */
  healthy: boolean;
  lastSuccessAt: string | null;
  lastAttemptAt: string | null;
  consecutiveFailures: number;
  lastError: { kind: TickFailureKind; message: string; at: string } | null;
  /** Matomo refuses the token: at most one attempt per authRetryMs. */
  authBlocked: boolean;
  nextAttemptAt: string | null;
  /** Matomo requests made (one per tick while leading a site). */
  requests: number;
  /** Snapshots published (changes). */
  published: number;
  sites: SiteStatus[];
}

export interface Poller {
  /** Starts polling (and leasing); resolves once the first lease round is done. */
  start(): Promise<void>;
  /** Stops polling, aborts a request in flight, releases held leases. Final: create a new poller to poll again. */
  stop(): Promise<void>;
  status(): PollerStatus;
}

/** Retry period of a lease round that failed (Redis unreachable), ms. */
const LEASE_RETRY_MS = 250;

export function createPoller(options: PollerOptions): Poller {
  return new SnapshotPoller(options);
}

interface SiteState {
  zone: SiteTimezone | undefined;
  summary: Summary | undefined;
  summaryFetchedAt: number;
  /** Leadership is ours until this instant (renewed by the lease loop). */
  leaderUntil: number;
  lastSeq: number;
  lastDigest: string | undefined;
  /** When the current digest was first seen (updated_at). */
  digestSeenAt: number;
  lastPublishedAt: number | undefined;
  lastError: string | undefined;
}

class TickFailure extends Error {
  constructor(
    readonly kind: TickFailureKind,
    message: string,
    cause?: unknown,
  ) {
    super(message, { cause });
    this.name = 'TickFailure';
  }

  /** A failure of the given kind for an expected error class, else an `internal` one carrying the error as cause. */
  static of(error: unknown, expected: TickFailureKind | undefined, prefix = ''): TickFailure {
    const message = `${prefix}${error instanceof Error ? error.message : String(error)}`;
    return new TickFailure(expected ?? 'internal', message, error);
  }
}

/** The publisher (Redis) failed or kept refusing; anything else thrown while publishing is a bug. */
class PublishError extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, { cause });
    this.name = 'PublishError';
  }
}

class SnapshotPoller implements Poller {
  private readonly config: PollerConfig;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly timing: PollerTiming;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private readonly sites = new Map<number, SiteState>();
  private running = false;
  private stopped = false;
  private tickTimer: unknown;
  private leaseTimer: unknown;
  private inFlight: Promise<void> | undefined;
  private leaseRound: Promise<void> | undefined;
  private abort = new AbortController();
  private counters = { requests: 0, published: 0 };
  private health = {
    startedAt: 0,
    lastSuccessAt: undefined as number | undefined,
    lastAttemptAt: undefined as number | undefined,
    consecutiveFailures: 0,
    authRefusals: 0,
    authBlocked: false,
    nextAttemptAt: undefined as number | undefined,
    lastError: null as PollerStatus['lastError'],
  };

  constructor(private readonly options: PollerOptions) {
    this.config = options.config;
    this.clock = options.clock ?? systemClock;
    this.log = options.logger;
    const interval = this.config.fetchIntervalMs;
    this.timing = {
      backoffBaseMs: Math.min(interval, 1000),
      backoffCapMs: 5000,
      authRefusalsBeforeBlock: 3,
      authRetryMs: 300_000,
      unhealthyAfterMs: Math.max(60_000, 3 * interval),
      leaseRefreshMs: Math.max(1, Math.floor(this.config.leaseTtlMs / 3)),
      random: Math.random,
      ...options.timing,
    };
    this.ownsDispatcher = options.dispatcher === undefined;
    this.dispatcher = options.dispatcher ?? new Agent({ keepAliveTimeout: 30_000, connections: 2 });
    for (const siteId of this.config.siteIds) {
      this.sites.set(siteId, {
        zone: undefined,
        summary: undefined,
        summaryFetchedAt: 0,
        leaderUntil: options.leases ? 0 : Infinity,
        lastSeq: 0,
        lastDigest: undefined,
        digestSeenAt: 0,
        lastPublishedAt: undefined,
        lastError: undefined,
      });
    }
  }

  async start(): Promise<void> {
    if (this.running) return;
    if (this.stopped) throw new Error('this poller was stopped; create a new one');
    this.running = true;
    this.abort = new AbortController();
    this.health.startedAt = this.clock.now();
    this.log.info(
      { sites: this.config.siteIds, fetchIntervalMs: this.config.fetchIntervalMs, leased: Boolean(this.options.leases) },
      'poller starting',
    );
    if (this.options.leases) await this.runLeaseRound();
    this.scheduleTick(0);
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.stopped = true;
    this.clock.clearTimeout(this.tickTimer);
    this.clock.clearTimeout(this.leaseTimer);
    this.abort.abort();
    await Promise.all([this.inFlight, this.leaseRound]);
    const leases = this.options.leases;
    if (leases) {
      for (const [siteId, state] of this.sites) {
        if (state.leaderUntil <= this.clock.now()) continue;
        state.leaderUntil = 0;
        await leases
          .release(siteId)
          .catch((error: Error) => this.log.warn({ siteId, err: error }, 'could not release the lease; it expires by itself'));
      }
    }
    if (this.ownsDispatcher) await this.dispatcher.close();
    this.log.info('poller stopped');
  }

  status(): PollerStatus {
    const now = this.clock.now();
    const h = this.health;
    const failingSince = h.lastSuccessAt ?? h.startedAt;
    const iso = (t: number | undefined) => (t === undefined ? null : new Date(t).toISOString());
    return {
      running: this.running,
      healthy: this.running && !h.authBlocked && !(h.consecutiveFailures > 0 && now - failingSince > this.timing.unhealthyAfterMs),
      lastSuccessAt: iso(h.lastSuccessAt),
      lastAttemptAt: iso(h.lastAttemptAt),
      consecutiveFailures: h.consecutiveFailures,
      lastError: h.lastError,
      authBlocked: h.authBlocked,
      nextAttemptAt: iso(h.nextAttemptAt),
      requests: this.counters.requests,
      published: this.counters.published,
      sites: [...this.sites].map(([siteId, s]) => ({
        siteId,
        leader: this.isLeader(s),
        timezone: s.zone?.name ?? null,
        seq: s.lastSeq || null,
        lastPublishedAt: iso(s.lastPublishedAt),
        lastError: s.lastError ?? null,
      })),
    };
  }

  private isLeader(state: SiteState): boolean {
    return this.clock.now() < state.leaderUntil;
  }

  private scheduleTick(delayMs: number): void {
    if (!this.running) return;
    this.clock.clearTimeout(this.tickTimer);
    this.health.nextAttemptAt = this.clock.now() + delayMs;
    this.tickTimer = this.clock.setTimeout(() => {
      this.inFlight = this.tick().finally(() => (this.inFlight = undefined));
    }, delayMs);
  }

  private runLeaseRound(): Promise<void> {
    this.leaseRound = this.refreshLeases().finally(() => (this.leaseRound = undefined));
    return this.leaseRound;
  }

  /** Lease round: take or keep each site's lease; a site just won is polled at once. */
  private async refreshLeases(): Promise<void> {
    const leases = this.options.leases!;
    let won = false;
    let failed = false;
    for (const [siteId, state] of this.sites) {
      if (!this.running) return;
      const askedAt = this.clock.now();
      try {
        const held = await leases.acquire(siteId);
        const was = this.isLeader(state);
        state.leaderUntil = held ? askedAt + leases.ttlMs : 0;
        if (held && !was) {
          won = true;
          this.log.info({ siteId, owner: leases.owner }, 'leading this site');
        } else if (!held && was) {
          this.log.warn({ siteId }, 'lost the lease; another poller leads this site');
        }
      } catch (error) {
        // Keep what we know: our lease runs out by itself at leaderUntil, and publishing is fenced.
        this.log.warn({ siteId, err: error }, 'lease round failed');
        failed = true;
      }
    }
    if (!this.running) return;
    // After a failed round (Redis reconnecting) ask again soon: leadership should come back with Redis.
    const next = failed ? Math.min(this.timing.leaseRefreshMs, LEASE_RETRY_MS) : this.timing.leaseRefreshMs;
    this.leaseTimer = this.clock.setTimeout(() => void this.runLeaseRound(), next);
    if (won && this.inFlight === undefined) this.scheduleTick(0);
  }

  private async tick(): Promise<void> {
    const startedAt = this.clock.now();
    const led = [...this.sites].filter(([, s]) => this.isLeader(s));
    if (led.length === 0) return this.scheduleTick(this.config.fetchIntervalMs);
    this.health.lastAttemptAt = startedAt;
    const failures: TickFailure[] = [];
    try {
      const queries = led.map(([siteId, s]): SiteQuery => {
        const summaryDue = this.summaryDue(s, startedAt);
        return { siteId, liveLimit: this.config.liveLimit, withSite: summaryDue || s.zone === undefined, withSummary: summaryDue };
      });
      const bulk = buildBulkRequest(queries, this.config.matomoToken);
      this.counters.requests++;
      const answers = await postBulkRequest(
        bulk,
        { baseUrl: this.config.matomoUrl, dispatcher: this.dispatcher, timeoutMs: this.config.matomoTimeoutMs },
        this.abort.signal,
      );
      // In parallel: in a Redis Cluster a site whose shard is failing over must not hold up the others' publishes.
      const outcomes = await Promise.all(bulk.slots.map((slots) => this.handleSite(slots, answers, bulk.methods, startedAt)));
      for (const failure of outcomes) if (failure) failures.push(failure);
    } catch (error) {
      if (!this.running) return;
      failures.push(TickFailure.of(error, error instanceof MatomoRequestError ? error.kind : undefined));
    }
    if (!this.running) return;
    this.finishTick(failures, startedAt);
  }

  /** Reads one site's answers and publishes them; a failure to report, or undefined. */
  private async handleSite(slots: SiteSlots, answers: unknown[], methods: string[], now: number): Promise<TickFailure | undefined> {
    const state = this.sites.get(slots.siteId)!;
    const answer = (index: number): unknown => {
      const error = errorMessage(answers[index]);
      if (error !== undefined) throw new MatomoRequestError('api-error', `${methods[index]} (site ${slots.siteId}): ${error}`);
      return answers[index];
    };
    let content: SnapshotContent;
    let summary: Summary;
    let zone: SiteTimezone;
    try {
      zone = slots.site !== undefined ? readSiteTimezone(answer(slots.site)) : state.zone!;
      const visits = readVisits(answer(slots.visits), zone, this.config);
      const counters = readCounters(answer(slots.counters));
      summary = slots.summary !== undefined ? readSummary(answer(slots.summary), localDate(now, zone)) : state.summary!;
      content = { visits_live: visits, summary, counters, site: slots.siteId, timezone: zone.name };
    } catch (error) {
      const kind = error instanceof MatomoRequestError ? error.kind : error instanceof AnswerShapeError ? 'shape' : undefined;
      const failure = TickFailure.of(error, kind);
      state.lastError = failure.message;
      return failure;
    }
    // Only a fully valid answer updates what later ticks reuse.
    if (state.zone?.name !== zone.name) this.log.info({ siteId: slots.siteId, timezone: zone.name }, 'site timezone');
    state.zone = zone;
    if (slots.summary !== undefined) {
      state.summary = summary;
      state.summaryFetchedAt = now;
    }
    try {
      await this.publish(slots.siteId, state, content, now);
      state.lastError = undefined;
      return undefined;
    } catch (error) {
      const failure = error instanceof PublishError ? TickFailure.of(error, 'publish', 'publish: ') : TickFailure.of(error, undefined);
      state.lastError = failure.message;
      return failure;
    }
  }

  private summaryDue(state: SiteState, now: number): boolean {
    if (!state.summary || !state.zone) return true;
    // After local midnight "today" is another day: refresh at once rather than show yesterday's totals as today's.
    return now - state.summaryFetchedAt >= this.config.summaryIntervalMs || state.summary.today.date !== localDate(now, state.zone);
  }

  /** Stores and publishes `content` unless Redis holds the same digest; seq = max(clock, last seen + 1). */
  private async publish(siteId: number, state: SiteState, content: SnapshotContent, now: number): Promise<void> {
    const digest = contentDigest(content);
    if (digest !== state.lastDigest) {
      state.lastDigest = digest;
      state.digestSeenAt = now;
    }
    for (let attempt = 0; attempt < 5; attempt++) {
      const seq = Math.max(this.clock.now(), state.lastSeq + 1);
      const bytes = encodeSnapshot(content, seq, new Date(state.digestSeenAt));
      const outcome = await this.options.publisher
        // knownSeq: a stored state below what we saw stored was rolled back (failover) and is republished.
        .publish(siteId, { digest, seq, bytes, leaseOwner: this.options.leases?.owner, knownSeq: state.lastSeq })
        .catch((error: unknown) => {
          throw new PublishError(error instanceof Error ? error.message : String(error), error);
        });
      switch (outcome.kind) {
        case 'published':
          state.lastSeq = seq;
          state.lastPublishedAt = this.clock.now();
          this.counters.published++;
          this.log.debug({ siteId, seq, visits: content.visits_live.length, receivers: outcome.receivers }, 'published');
          return;
        case 'unchanged':
          state.lastSeq = Math.max(state.lastSeq, outcome.seq);
          return;
        case 'seq-behind':
          state.lastSeq = Math.max(state.lastSeq, outcome.storedSeq);
          continue;
        case 'not-leader':
          state.leaderUntil = 0;
          this.log.warn({ siteId }, 'publish refused: another poller holds the lease');
          return;
      }
    }
    throw new PublishError('seq kept falling behind the stored one');
  }

  private finishTick(failures: TickFailure[], startedAt: number): void {
    const h = this.health;
    const now = this.clock.now();
    if (failures.length === 0) {
      if (h.consecutiveFailures > 0) this.log.info({ failures: h.consecutiveFailures }, 'Matomo polling recovered');
      h.consecutiveFailures = 0;
      h.authRefusals = 0;
      h.authBlocked = false;
      h.lastSuccessAt = now;
      return this.scheduleTick(Math.max(0, this.config.fetchIntervalMs - (now - startedAt)));
    }
    const first = failures[0]!;
    h.consecutiveFailures++;
    h.lastError = { kind: first.kind, message: first.message, at: new Date(now).toISOString() };
    h.authRefusals = first.kind === 'auth' ? h.authRefusals + 1 : 0;
    if (h.authRefusals >= this.timing.authRefusalsBeforeBlock) {
      h.authBlocked = true;
      this.log.error(
        { refusals: h.authRefusals, retryInMs: this.timing.authRetryMs, matomoUrl: this.config.matomoUrl },
        'MATOMO REFUSES THE TOKEN: check MATOMO_TOKEN. Trying at most once per retry interval, because Matomo blocks an IP after 20 failed logins in an hour',
      );
      return this.scheduleTick(this.timing.authRetryMs);
    }
    // Retry n (n = failures so far) waits up to min(cap, base·2^(n-1)): backoffDelay counts attempts from 0.
    const backoff = backoffDelay(h.consecutiveFailures - 1, {
      initialMs: this.timing.backoffBaseMs,
      maxMs: this.timing.backoffCapMs,
      random: this.timing.random,
    });
    // Backing off spares Matomo; when only Redis failed (a failover), keep the normal pace so the next publish follows the promotion.
    const delay = failures.every((f) => f.kind === 'publish') ? Math.min(backoff, this.config.fetchIntervalMs) : backoff;
    const loud = h.consecutiveFailures === 1 || h.consecutiveFailures % 20 === 0;
    // An internal failure is a bug: always worth its stack at error level (still only as often as the warnings).
    const level = !loud ? 'debug' : first.kind === 'internal' ? 'error' : 'warn';
    this.log[level]({ kind: first.kind, err: first, failures: h.consecutiveFailures, retryInMs: delay }, 'tick failed; nothing published');
    this.scheduleTick(delay);
  }
}
