import { Agent, type Dispatcher } from 'undici';
import { backoffDelay, systemClock, type Clock, type SnapshotContent, type Summary } from '@matomo-live/protocol';
import {
  addDays,
  contentDigest,
  encodeSnapshot,
  startOfLocalDay,
  type EventsWrite,
  type Logger,
  type PollerConfig,
  type SiteTimezone,
  type SnapshotPublisher,
} from '@matomo-live/shared';
import { buildBulkRequest, type SitePart, type SiteQuery, type SiteSlots } from './bulk-request';
import { LatestVisits } from './latest-visits';
import { composeToday, summaryFor, todayWindow, type LiveToday, type TimedCounters, type TodayFloor, type TodayWindow } from './live-today';
import {
  AnswerShapeError,
  readCounters,
  readSiteTimezone,
  readSummary,
  readTodayCounters,
  readVisitRows,
  type VisitRow,
} from './matomo-answers';
import { errorMessage, MatomoRequestError, postBulkRequest, type MatomoFailureKind } from './matomo-client';
import { PartState } from './part-state';
import type { LeaseManager } from './redis-lease';
import { advanceCursor, cursorFromStore, cursorQuery, freshCursor, startOf, type CursorState, type CursorStep } from './visit-cursor';

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

/** A part of a site's answer whose latest attempt failed: its last good value is published, stale. */
export interface FailingPart {
  part: SitePart;
  /** Failures in a row. */
  failures: number;
  /** When the streak started. */
  since: string;
  error: string;
}

export interface SiteStatus {
  siteId: number;
  leader: boolean;
  /** The site's timezone once known. */
  timezone: string | null;
  /** seq of the snapshot stored in Redis as last seen (published or found unchanged). */
  seq: number | null;
  lastPublishedAt: string | null;
  /** Why the site was not published at its latest attempt (null when it was). */
  lastError: string | null;
  /** Seconds since the daily totals in use were fetched (VisitsSummary: time spent, bounces, yesterday…); null before the first. */
  summaryAgeSeconds: number | null;
  /** Seconds since today's live visits and actions were fetched; null before the first, or with TODAY_INTERVAL=0. */
  todayAgeSeconds: number | null;
  /** Seconds since the 30-minute counters were fetched; null before the first. */
  countersAgeSeconds: number | null;
  /** Parts whose latest attempt failed (their last good value is published). */
  failingParts: FailingPart[];
  /** The incremental fetch and the visit events. */
  events: SiteEventsStatus;
}

export interface SiteEventsStatus {
  /** Events are written (EVENTS_RETENTION > 0). */
  enabled: boolean;
  /** The next query asks for visits whose last action is after this instant; null until the cursor is loaded. */
  cursorAfter: string | null;
  /** Visit events written since start. */
  visits: number;
  /** `gap` resets written: the cursor had fallen further behind than the retention. */
  gaps: number;
  /** Ticks that found more new visits than EVENTS_PER_TICK (the rest came on later ticks). */
  capHits: number;
  /** The last tick hit the cap: the cursor is catching up. */
  catchingUp: boolean;
}

export interface PollerStatus {
  running: boolean;
  /** false when the token is refused or polling has failed for unhealthyAfterMs. */
  healthy: boolean;
  lastSuccessAt: string | null;
  lastAttemptAt: string | null;
  consecutiveFailures: number;
  lastError: { kind: TickFailureKind; message: string; at: string } | null;
  /** Matomo refuses the token or blocks this IP: at most one attempt per authRetryMs. */
  authBlocked: boolean;
  /** Why: `token-refused` (HTTP 401) or `ip-blocked` (HTTP 500 "Too many failed logins"); null when not blocked. */
  authBlockedReason: 'token-refused' | 'ip-blocked' | null;
  /** Matomo's clock minus ours, from its Date header (0 within ±2 s); "today" windows follow Matomo's clock. */
  matomoClockOffsetSeconds: number;
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

/** A site cannot be published without this part, which has never worked: why, with its latest failure. */
function missing(part: PartState<unknown>, what: string): TickFailure {
  return new TickFailure(
    (part.lastKind as TickFailureKind | undefined) ?? 'shape',
    part.lastError === undefined ? `${what}: not fetched yet` : `${what}: ${part.lastError}`,
  );
}

/** Retry period of a lease round that failed (Redis unreachable), ms. */
const LEASE_RETRY_MS = 250;

/** Clock differences with Matomo below this are noise (its Date header has whole seconds), ms. */
const CLOCK_TOLERANCE_MS = 2000;

export function createPoller(options: PollerOptions): Poller {
  return new SnapshotPoller(options);
}

interface SiteState {
  /** SitesManager.getSiteFromId: the timezone. */
  zone: PartState<SiteTimezone>;
  /** The full read of the latest visits (its due time and failures; the visits live in `latest`). */
  visits: PartState<true>;
  /** The incremental fetch (its failures; its position lives in `cursorState`). */
  cursor: PartState<true>;
  /** The snapshot's latest visits. */
  latest: LatestVisits;
  /** The incremental fetch's position; undefined until loaded from the store after leadership is won. */
  cursorState: CursorState | undefined;
  /** The last cursor step hit EVENTS_PER_TICK. */
  catchingUp: boolean;
  eventCounts: { visits: number; gaps: number; capHits: number };
  /** VisitsSummary.get last3. */
  summary: PartState<Summary>;
  /** Live.getCounters over 30 minutes. */
  counters: PartState<TimedCounters>;
  /** Live.getCounters since the site's midnight. */
  today: PartState<LiveToday>;
  /** Today's numbers as last published: they never go down within a day. */
  todayFloor: TodayFloor | undefined;
  /** Leadership is ours until this instant (renewed by the lease loop). */
  leaderUntil: number;
  lastSeq: number;
  lastDigest: string | undefined;
  /** When the current digest was first seen (updated_at). */
  digestSeenAt: number;
  lastPublishedAt: number | undefined;
  lastError: string | undefined;
}

/** The cursor's query of this tick: where it starts, and whether it jumped over lost history. */
interface CursorPlan {
  state: CursorState;
  jumped: boolean;
}

/** When a tick happened, on our clock and (estimated) on Matomo's. */
interface TickTimes {
  /** When the request was sent: what the parts' intervals count from, so a 10 s part is asked every 10th 1 s tick. */
  askedAt: number;
  /** When the answer came. */
  now: number;
  matomoNow: number;
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

  /** A failure reading a Matomo answer: its Matomo kind, `shape` for a surprising answer, else `internal`. */
  static reading(error: unknown): TickFailure {
    const kind = error instanceof MatomoRequestError ? error.kind : error instanceof AnswerShapeError ? 'shape' : undefined;
    return TickFailure.of(error, kind);
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
  /** When lease rounds started failing (Redis unreachable), and how many failed: one warn per outage, one info after. */
  private leaseOutage: { since: number; rounds: number } | undefined;
  /** The sites another poller leads, as last logged ("" before the first round). */
  private standbyLogged = '';
  private counters = { requests: 0, published: 0 };
  /** Matomo's clock minus ours, ms (0 while within CLOCK_TOLERANCE_MS). */
  private matomoOffsetMs = 0;
  private readonly eventsEnabled: boolean;
  private health = {
    startedAt: 0,
    lastSuccessAt: undefined as number | undefined,
    lastAttemptAt: undefined as number | undefined,
    consecutiveFailures: 0,
    authRefusals: 0,
    authBlocked: false,
    authBlockedReason: null as PollerStatus['authBlockedReason'],
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
      authRefusalsBeforeBlock: 1,
      authRetryMs: 300_000,
      unhealthyAfterMs: Math.max(60_000, 3 * interval),
      leaseRefreshMs: Math.max(1, Math.floor(this.config.leaseTtlMs / 3)),
      random: Math.random,
      ...options.timing,
    };
    this.eventsEnabled = this.config.eventsRetentionMs > 0;
    this.ownsDispatcher = options.dispatcher === undefined;
    this.dispatcher = options.dispatcher ?? new Agent({ keepAliveTimeout: 30_000, connections: 2 });
    for (const siteId of this.config.siteIds) {
      this.sites.set(siteId, {
        zone: new PartState(),
        visits: new PartState(),
        cursor: new PartState(),
        latest: new LatestVisits(this.config.liveLimit),
        cursorState: undefined,
        catchingUp: false,
        eventCounts: { visits: 0, gaps: 0, capHits: 0 },
        summary: new PartState(),
        counters: new PartState(),
        today: new PartState(),
        todayFloor: undefined,
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
      {
        sites: this.config.siteIds,
        fetchIntervalMs: this.config.fetchIntervalMs,
        todayIntervalMs: this.config.todayIntervalMs,
        summaryIntervalMs: this.config.summaryIntervalMs,
        leased: Boolean(this.options.leases),
      },
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
      authBlockedReason: h.authBlockedReason,
      matomoClockOffsetSeconds: Math.round(this.matomoOffsetMs / 1000),
      nextAttemptAt: iso(h.nextAttemptAt),
      requests: this.counters.requests,
      published: this.counters.published,
      sites: [...this.sites].map(([siteId, s]) => ({
        siteId,
        leader: this.isLeader(s),
        timezone: s.zone.value?.name ?? null,
        seq: s.lastSeq || null,
        lastPublishedAt: iso(s.lastPublishedAt),
        lastError: s.lastError ?? null,
        summaryAgeSeconds: s.summary.ageSeconds(now),
        todayAgeSeconds: s.today.ageSeconds(now),
        countersAgeSeconds: s.counters.ageSeconds(now),
        failingParts: (['visits', 'cursor', 'counters', 'today', 'site', 'summary'] as const).flatMap((part): FailingPart[] => {
          const p = part === 'site' ? s.zone : s[part];
          return p.failures > 0 ? [{ part, failures: p.failures, since: iso(p.failingSince)!, error: p.lastError ?? 'failed' }] : [];
        }),
        events: {
          enabled: this.eventsEnabled,
          cursorAfter: s.cursorState ? new Date((s.cursorState.after + 1) * 1000).toISOString() : null,
          visits: s.eventCounts.visits,
          gaps: s.eventCounts.gaps,
          capHits: s.eventCounts.capHits,
          catchingUp: s.catchingUp,
        },
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
    let firstError: unknown;
    for (const [siteId, state] of this.sites) {
      if (!this.running) return;
      const askedAt = this.clock.now();
      try {
        const held = await leases.acquire(siteId);
        const was = this.isLeader(state);
        state.leaderUntil = held ? askedAt + leases.ttlMs : 0;
        if (held && !was) {
          won = true;
          // Another poller may have moved the cursor and the latest visits meanwhile: read both again.
          this.forgetLeadState(state);
          this.log.info({ siteId, owner: leases.owner }, 'leading this site');
        } else if (!held && was) {
          this.forgetLeadState(state);
          this.log.warn({ siteId }, 'lost the lease; another poller leads this site');
        }
      } catch (error) {
        // Keep what we know: our lease runs out by itself at leaderUntil, and publishing is fenced.
        firstError ??= error;
        failed = true;
      }
    }
    if (!this.running) return;
    this.logLeaseRound(failed, firstError);
    // After a failed round (Redis reconnecting) ask again soon: leadership should come back with Redis.
    const next = failed ? Math.min(this.timing.leaseRefreshMs, LEASE_RETRY_MS) : this.timing.leaseRefreshMs;
    this.leaseTimer = this.clock.setTimeout(() => void this.runLeaseRound(), next);
    if (won && this.inFlight === undefined) this.scheduleTick(0);
  }

  /** What a site's state holds only while leading: read again after leadership changes hands. */
  private forgetLeadState(state: SiteState): void {
    state.cursorState = undefined;
    state.latest.clear();
    state.catchingUp = false;
  }

  /**
   * Loads the cursor of led sites that have none (after start or a leadership
   * change) from the store, where the last leader wrote it with its events.
   * A site whose load fails is polled without the cursor this tick.
   */
  private async loadCursors(led: Array<[number, SiteState]>, matomoNowS: number): Promise<void> {
    await Promise.all(
      led.map(async ([siteId, state]) => {
        if (state.cursorState !== undefined) return;
        if (!this.eventsEnabled) {
          // Nothing stored without events: the full read of the latest visits covers what came before.
          state.cursorState = freshCursor(matomoNowS, 60);
          return;
        }
        try {
          const stored = await this.options.publisher.readCursor(siteId);
          state.cursorState = stored ? cursorFromStore(stored) : freshCursor(matomoNowS, this.config.eventsRetentionMs / 1000);
          this.log.info(
            { siteId, after: new Date((state.cursorState.after + 1) * 1000).toISOString(), stored: stored !== null },
            'visit cursor loaded',
          );
        } catch (error) {
          this.log.warn({ siteId, err: error }, 'could not read the visit cursor; polling without it this tick');
        }
      }),
    );
  }

  /**
   * One line when lease rounds start failing (Redis unreachable: they are retried every 250 ms, which
   * used to log ~40 warnings in 10 s), one when they work again; and once per change, which sites this
   * poller is standby for.
   */
  private logLeaseRound(failed: boolean, error: unknown): void {
    const now = this.clock.now();
    if (failed) {
      if (this.leaseOutage === undefined) {
        this.leaseOutage = { since: now, rounds: 0 };
        this.log.warn(
          { err: error, sites: this.config.siteIds },
          'lease round failed: Redis unreachable? Retrying every 250 ms; leases held run out by themselves (LEASE_TTL)',
        );
      }
      this.leaseOutage.rounds++;
      return;
    }
    if (this.leaseOutage !== undefined) {
      this.log.info({ failedRounds: this.leaseOutage.rounds, downMs: now - this.leaseOutage.since }, 'lease rounds work again');
      this.leaseOutage = undefined;
    }
    const standby = [...this.sites].filter(([, s]) => !this.isLeader(s)).map(([siteId]) => siteId);
    const key = standby.join(',');
    if (key === this.standbyLogged) return;
    this.standbyLogged = key;
    if (standby.length > 0) {
      this.log.info({ sites: standby }, 'standby: another poller holds the lease of these sites; taking over when it lapses');
    }
  }

  private async tick(): Promise<void> {
    const startedAt = this.clock.now();
    const led = [...this.sites].filter(([, s]) => this.isLeader(s));
    if (led.length === 0) return this.scheduleTick(this.config.fetchIntervalMs);
    this.health.lastAttemptAt = startedAt;
    const failures: TickFailure[] = [];
    let published = 0;
    try {
      await this.loadCursors(led, Math.floor((startedAt + this.matomoOffsetMs) / 1000));
      if (!this.running) return;
      const windows = new Map<number, TodayWindow>();
      const plans = new Map<number, CursorPlan>();
      const queries = led.map(([siteId, s]) => this.siteQuery(siteId, s, startedAt, windows, plans));
      const bulk = buildBulkRequest(queries, this.config.matomoToken);
      this.counters.requests++;
      const { answers, serverDateMs } = await postBulkRequest(
        bulk,
        { baseUrl: this.config.matomoUrl, dispatcher: this.dispatcher, timeoutMs: this.config.matomoTimeoutMs },
        this.abort.signal,
      );
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
      failures.push(TickFailure.of(error, error instanceof MatomoRequestError ? error.kind : undefined));
    }
    if (!this.running) return;
    this.finishTick(failures, published, startedAt);
  }

  /** What to ask about one site this tick; records the "today" window asked for in `windows`, the cursor's query in `plans`. */
  private siteQuery(
    siteId: number,
    s: SiteState,
    now: number,
    windows: Map<number, TodayWindow>,
    plans: Map<number, CursorPlan>,
  ): SiteQuery {
    const zone = s.zone.value;
    const base = this.timing.backoffBaseMs;
    let cursor: SiteQuery['cursor'];
    if (s.cursorState !== undefined) {
      const retentionS = this.eventsEnabled ? this.config.eventsRetentionMs / 1000 : 3600;
      const plan = startOf(s.cursorState, Math.floor((now + this.matomoOffsetMs) / 1000), retentionS);
      plans.set(siteId, plan);
      cursor = cursorQuery(plan.state, this.config.eventsPerTick);
    }
    // The full read: to seed, now and then to catch what no cursor sees (deleted visits, out-of-order hits),
    // and while the cursor cannot keep the latest visits current (failing, or catching up on a backlog).
    const withVisits =
      !s.latest.seeded ||
      cursor === undefined ||
      s.catchingUp ||
      s.cursor.failures > 0 ||
      s.visits.due(now, this.config.liveRefreshIntervalMs, base);
    const window = zone && todayWindow(now + this.matomoOffsetMs, zone);
    // After local midnight "today" is another day: refresh at once rather than show yesterday's totals as today's.
    const withSummary = !window || s.summary.due(now, this.config.summaryIntervalMs, base, s.summary.value?.today.date !== window.date);
    const todayDue =
      window !== undefined &&
      this.config.todayIntervalMs > 0 &&
      s.today.due(now, this.config.todayIntervalMs, base, s.today.value?.date !== window.date);
    if (todayDue) windows.set(siteId, window);
    return {
      siteId,
      liveLimit: this.config.liveLimit,
      withVisits,
      cursor,
      withSite: !window || withSummary,
      withSummary,
      todayMinutes: todayDue ? window.minutes : undefined,
    };
  }

  /**
   * Matomo's clock from its Date header (whole seconds): the offset to ours,
   * when the request was quick enough to tell. "Today" windows are computed
   * in Matomo's clock, since it resolves lastMinutes and date=today in its own.
   */
  private learnMatomoClock(serverDateMs: number | undefined, sentAt: number, receivedAt: number): void {
    if (serverDateMs === undefined || receivedAt - sentAt > CLOCK_TOLERANCE_MS) return;
    const raw = serverDateMs + 500 - (sentAt + receivedAt) / 2;
    const offset = Math.abs(raw) < CLOCK_TOLERANCE_MS ? 0 : Math.round(raw);
    if (Math.abs(offset - this.matomoOffsetMs) >= CLOCK_TOLERANCE_MS) {
      this.log.warn(
        { offsetSeconds: Math.round(offset / 1000) },
        offset === 0
          ? "Matomo's clock agrees with ours again"
          : "Matomo's clock differs from ours (its Date header): today's windows follow Matomo's clock; check NTP on both hosts",
      );
    }
    this.matomoOffsetMs = offset;
  }

  /**
   * Reads one site's answers, each part on its own, and publishes them.
   * Returns a failure when the site could not be published (its visits
   * failed, or it has no timezone or daily totals yet), else undefined.
   */
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
    const read = <T>(part: SitePart, reader: (answer: unknown) => T): { value: T } | { failure: TickFailure } | undefined => {
      const index = slots.parts[part];
      if (index === undefined) return undefined;
      try {
        const error = errorMessage(answers[index]);
        if (error !== undefined) throw new MatomoRequestError('api-error', `${methods[index]} (site ${siteId}): ${error}`);
        return { value: reader(answers[index]) };
      } catch (error) {
        return { failure: TickFailure.reading(error) };
      }
    };
    const site = read('site', readSiteTimezone);
    if (site && 'value' in site && state.zone.value?.name !== site.value.name) {
      this.log.info({ siteId, timezone: site.value.name }, 'site timezone');
    }
    this.keep(siteId, 'site', state.zone, site, times.askedAt);
    const zone = state.zone.value;
    if (!zone)
      return this.siteFailed(
        state,
        missing(state.zone, `site ${siteId}: timezone unknown (SitesManager.getSiteFromId), nothing published`),
      );
    const visitRows = read('visits', (answer): VisitRow[] => readVisitRows(answer, zone, this.config));
    this.keep(siteId, 'visits', state.visits, visitRows && ('value' in visitRows ? { value: true } : visitRows), times.askedAt);
    if (visitRows && 'value' in visitRows) state.latest.seed(visitRows.value);
    const cursorRows = read('cursor', (answer): VisitRow[] => readVisitRows(answer, zone, this.config));
    this.keep(siteId, 'cursor', state.cursor, cursorRows && ('value' in cursorRows ? { value: true } : cursorRows), times.askedAt);
    let step: CursorStep | undefined;
    if (plan && cursorRows && 'value' in cursorRows) {
      step = advanceCursor(plan.state, cursorRows.value, this.config.eventsPerTick, plan.jumped, this.eventsEnabled);
      state.latest.merge(step.rows);
    }
    const counters = read('counters', (answer): TimedCounters => ({ counters: readCounters(answer), matomoAt: times.matomoNow }));
    this.keep(siteId, 'counters', state.counters, counters, times.askedAt);
    const today = askedToday && read('today', (answer): LiveToday => ({ ...readTodayCounters(answer), date: askedToday.date }));
    this.keep(siteId, 'today', state.today, today, times.askedAt);
    const window = todayWindow(times.matomoNow, zone);
    const summary = read('summary', (answer) => readSummary(answer, window.date));
    this.keep(siteId, 'summary', state.summary, summary, times.askedAt);
    // Matomo's window of date=today (the full read's): from the site's midnight of the day before today in UTC.
    state.latest.dropBefore(startOfLocalDay(addDays(new Date(times.matomoNow).toISOString().slice(0, 10), -1), zone) / 1000);
    // The latest visits must be current: read in full this tick, or kept current by the cursor over an earlier full read.
    const fresh = (visitRows !== undefined && 'value' in visitRows) || (step !== undefined && state.latest.seeded);
    if (!fresh) {
      const failure =
        (visitRows && 'failure' in visitRows ? visitRows.failure : undefined) ??
        (cursorRows && 'failure' in cursorRows ? cursorRows.failure : undefined) ??
        missing(state.visits, `site ${siteId}: latest visits`);
      return this.siteFailed(state, failure);
    }
    if (!state.summary.value) {
      return this.siteFailed(state, missing(state.summary, `site ${siteId}: no daily totals yet (VisitsSummary.get), nothing published`));
    }
    const days = summaryFor(state.summary.value, window.date);
    const todays = composeToday({
      archive: days.today,
      window,
      live: state.today.value,
      counters: state.counters.value,
      floor: state.todayFloor,
    });
    state.todayFloor = { date: window.date, visits: todays.visits, actions: todays.actions, unique_visitors: todays.unique_visitors };
    const content: SnapshotContent = {
      visits_live: state.latest.visits(),
      summary: { ...days, today: todays },
      counters: state.counters.value?.counters ?? null,
      site: siteId,
      timezone: zone.name,
    };
    try {
      await this.publish(siteId, state, content, times.now, step);
      state.lastError = undefined;
      return undefined;
    } catch (error) {
      const failure = error instanceof PublishError ? TickFailure.of(error, 'publish', 'publish: ') : TickFailure.of(error, undefined);
      return this.siteFailed(state, failure);
    }
  }

  /**
   * Stores a part's good value, or records its failure and keeps the last good
   * one. Logs once per failure streak (warn) and once when it ends (info).
   */
  private keep<T>(
    siteId: number,
    part: SitePart,
    state: PartState<T>,
    result: { value: T } | { failure: TickFailure } | undefined,
    now: number,
  ): void {
    if (!result) return;
    if ('value' in result) {
      const ended = state.succeed(result.value, now);
      if (ended > 0) this.log.info({ siteId, part, failures: ended }, 'part of the Matomo answer works again');
      return;
    }
    const { failure } = result;
    if (state.fail(failure.message, failure.kind, now)) {
      const keptFrom = state.fetchedAt === undefined ? null : new Date(state.fetchedAt).toISOString();
      this.log.warn(
        { siteId, part, kind: failure.kind, err: failure, keptFrom },
        keptFrom
          ? 'part of the Matomo answer failed; publishing its last good value (stale, see /healthz) until it works again'
          : 'part of the Matomo answer failed and has no earlier value; retrying',
      );
    } else {
      this.log.debug({ siteId, part, kind: failure.kind, failures: state.failures }, 'part of the Matomo answer still failing');
    }
  }

  private siteFailed(state: SiteState, failure: TickFailure): TickFailure {
    state.lastError = failure.message;
    return failure;
  }

  /**
   * Stores and publishes `content` unless Redis holds the same digest; seq =
   * max(clock, last seen + 1). With a cursor `step`, its events and the
   * cursor's move go in the same atomic write; a stored cursor other than
   * ours (a failover rolled it back, or another poller wrote it) refuses
   * them: the cursor is read again and this tick's events dropped — the
   * next tick asks again from the stored position, so nothing is lost or
   * repeated.
   */
  private async publish(siteId: number, state: SiteState, content: SnapshotContent, now: number, step?: CursorStep): Promise<void> {
    const digest = contentDigest(content);
    if (digest !== state.lastDigest) {
      state.lastDigest = digest;
      state.digestSeenAt = now;
    }
    let pending = step;
    for (let attempt = 0; attempt < 5; attempt++) {
      const seq = Math.max(this.clock.now(), state.lastSeq + 1);
      const bytes = encodeSnapshot(content, seq, new Date(state.digestSeenAt));
      const events = pending && this.eventsWrite(pending, state);
      // Without events to write (none enabled, or nothing moved) the step is ours at once.
      if (pending && !events) this.commitStep(state, pending, undefined);
      if (!events) pending = undefined;
      const outcome = await this.options.publisher
        // knownSeq: a stored state below what we saw stored was rolled back (failover) and is republished.
        .publish(siteId, { digest, seq, bytes, leaseOwner: this.options.leases?.owner, knownSeq: state.lastSeq, events })
        .catch((error: unknown) => {
          throw new PublishError(error instanceof Error ? error.message : String(error), error);
        });
      switch (outcome.kind) {
        case 'published':
          if (pending) this.commitStep(state, pending, outcome.events?.cursorVersion);
          state.lastSeq = seq;
          state.lastPublishedAt = this.clock.now();
          this.counters.published++;
          this.log.debug(
            { siteId, seq, visits: content.visits_live.length, events: outcome.events?.ids.length, receivers: outcome.receivers },
            'published',
          );
          return;
        case 'unchanged':
          if (pending) this.commitStep(state, pending, outcome.events?.cursorVersion);
          state.lastSeq = Math.max(state.lastSeq, outcome.seq);
          return;
        case 'seq-behind':
          state.lastSeq = Math.max(state.lastSeq, outcome.storedSeq);
          continue;
        case 'cursor-stale': {
          this.log.warn(
            { siteId, heldVersion: state.cursorState?.version, storedVersion: outcome.version },
            'the stored visit cursor is not the one this poller wrote (a Redis failover rolled it back, or another poller wrote it): reading it again; this tick publishes no events',
          );
          const stored = await this.options.publisher.readCursor(siteId).catch((error: unknown) => {
            throw new PublishError(error instanceof Error ? error.message : String(error), error);
          });
          state.cursorState = stored ? cursorFromStore(stored) : undefined;
          pending = undefined;
          continue;
        }
        case 'not-leader':
          state.leaderUntil = 0;
          this.forgetLeadState(state);
          this.log.warn({ siteId }, 'publish refused: another poller holds the lease');
          return;
      }
    }
    throw new PublishError('seq kept falling behind the stored one');
  }

  /** The events write of a step, or undefined when there is nothing to store (events off, or the cursor stands still). */
  private eventsWrite(step: CursorStep, state: SiteState): EventsWrite | undefined {
    if (!this.eventsEnabled) return undefined;
    const held = state.cursorState;
    const { write } = step;
    const still =
      held !== undefined &&
      write.after === held.after &&
      write.offset === held.offset &&
      write.set.length === 0 &&
      write.forget.length === 0 &&
      step.events.length === 0;
    if (still) return undefined;
    return { entries: step.events, cursor: write, retentionMs: this.config.eventsRetentionMs, maxLen: this.config.eventsMaxLen };
  }

  /** The step is stored (or needs no storing): it becomes the cursor, with the store's version when it told one. */
  private commitStep(state: SiteState, step: CursorStep, storedVersion: number | undefined): void {
    const wasCatchingUp = state.catchingUp;
    state.cursorState =
      storedVersion === undefined
        ? { ...step.next, version: state.cursorState?.version ?? step.next.version - 1 }
        : { ...step.next, version: storedVersion };
    state.catchingUp = step.capHit;
    const visits = step.events.filter((e) => e.kind === 'visit').length;
    state.eventCounts.visits += visits;
    if (step.capHit) state.eventCounts.capHits++;
    if (step.jumped) {
      state.eventCounts.gaps++;
      this.log.warn(
        { after: new Date((step.next.after + 1) * 1000).toISOString(), retentionMs: this.config.eventsRetentionMs },
        'the visit cursor was older than EVENTS_RETENTION (the poller was down, or behind by more than EVENTS_PER_TICK can catch up): skipped ahead and wrote a gap reset',
      );
    }
    if (step.capHit && !wasCatchingUp) {
      this.log.info({ cap: this.config.eventsPerTick }, 'more new visits than EVENTS_PER_TICK: catching up over the next ticks');
    }
  }

  /** Health bookkeeping and the next tick: the interval after success, a back-off after failures, 5 min when auth fails. */
  private finishTick(failures: TickFailure[], published: number, startedAt: number): void {
    const h = this.health;
    const now = this.clock.now();
    const onTime = Math.max(0, this.config.fetchIntervalMs - (now - startedAt));
    if (failures.length === 0) {
      if (h.consecutiveFailures > 0) this.log.info({ failures: h.consecutiveFailures }, 'Matomo polling recovered');
      h.consecutiveFailures = 0;
      h.authRefusals = 0;
      h.authBlocked = false;
      h.authBlockedReason = null;
      h.lastSuccessAt = now;
      return this.scheduleTick(onTime);
    }
    const first = failures[0]!;
    h.consecutiveFailures++;
    h.lastError = { kind: first.kind, message: first.message, at: new Date(now).toISOString() };
    const auth = failures.find((f) => f.kind === 'auth' || f.kind === 'auth-blocked');
    h.authRefusals = auth ? h.authRefusals + 1 : 0;
    if (auth && (auth.kind === 'auth-blocked' || h.authRefusals >= this.timing.authRefusalsBeforeBlock)) {
      h.authBlocked = true;
      h.authBlockedReason = auth.kind === 'auth' ? 'token-refused' : 'ip-blocked';
      this.log.error(
        { kind: auth.kind, refusals: h.authRefusals, retryInMs: this.timing.authRetryMs, matomoUrl: this.config.matomoUrl },
        auth.kind === 'auth'
          ? 'MATOMO REFUSES THE TOKEN: check MATOMO_TOKEN. Trying once per retry interval, because Matomo blocks an IP after 20 failed logins in an hour'
          : 'MATOMO BLOCKS THIS IP (too many failed logins; brute-force detection): nothing can be fetched, even with a good token, until it lifts the block (up to an hour after the failures) or an admin runs `console login:unblock-blocked-ips`. Trying once per retry interval',
      );
      return this.scheduleTick(this.timing.authRetryMs);
    }
    const loud = h.consecutiveFailures === 1 || h.consecutiveFailures % 20 === 0;
    // An internal failure is a bug: always worth its stack at error level (still only as often as the warnings).
    const level = !loud ? 'debug' : first.kind === 'internal' ? 'error' : 'warn';
    if (published > 0) {
      // Matomo answers (other sites were published): no back-off; the failing sites stay in /healthz.
      this.log[level]({ kind: first.kind, err: first, failures: h.consecutiveFailures, sites: failures.length }, 'site(s) not published');
      return this.scheduleTick(onTime);
    }
    // Retry n (n = failures so far) waits up to min(cap, base·2^(n-1)): backoffDelay counts attempts from 0.
    const backoff = backoffDelay(h.consecutiveFailures - 1, {
      initialMs: this.timing.backoffBaseMs,
      maxMs: this.timing.backoffCapMs,
      random: this.timing.random,
    });
    // Backing off spares Matomo; when only Redis failed (a failover), keep the normal pace so the next publish follows the promotion.
    const delay = failures.every((f) => f.kind === 'publish') ? Math.min(backoff, this.config.fetchIntervalMs) : backoff;
    this.log[level]({ kind: first.kind, err: first, failures: h.consecutiveFailures, retryInMs: delay }, 'tick failed; nothing published');
    this.scheduleTick(delay);
  }
}
