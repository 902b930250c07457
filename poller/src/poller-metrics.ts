import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { systemClock, type Clock } from '@matomo-live/protocol';
import type { SitePart, SiteSlots } from './bulk-request';
import type { SiteState } from './site-state';

/**
 * The poller's Prometheus metrics (docs/OPERATIONS.md, "Poller metrics": that
 * table is the specification). Counters are driven by the poller's hooks;
 * what the poller already keeps (leases, data ages, events written, the
 * cursor) is read from its sites at scrape time, so nothing is counted twice.
 */

/** Every part of a site's answer, as `/healthz` names them. */
export const PARTS: readonly SitePart[] = ['site', 'visits', 'cursor', 'summary', 'counters', 'today'];

/** The `kind` label: Matomo failure kinds folded into what an operator acts on. */
export const FAILURE_KINDS = ['timeout', 'network', 'http', 'auth', 'blocked', 'bad_answer'] as const;
export type FailureKindLabel = (typeof FAILURE_KINDS)[number];

/** The `kind` label of a failure kind (MatomoFailureKind, or `internal` for a reader that threw: a bad answer too). */
export function failureKindLabel(kind: string | undefined): FailureKindLabel {
  switch (kind) {
    case 'timeout':
    case 'network':
    case 'http':
    case 'auth':
      return kind;
    case 'auth-blocked':
      return 'blocked';
    default:
      return 'bad_answer';
  }
}

/**
 * prom-client's default gauges whose names end in _total, which `promtool
 * check metrics` rejects (a gauge is no counter); left out, the rest stays.
 */
export const LINT_FAILING_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

const BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** What the poller lets the metrics read at scrape time. */
export interface PollerView {
  sites: ReadonlyMap<number, SiteState>;
  /** EVENTS_RETENTION > 0: the cursor lag is exported. */
  eventsEnabled: boolean;
  /** Matomo's clock minus ours, ms: the cursor's position is on Matomo's clock. */
  matomoOffsetMs: number;
}

/** Failures in a row of each part of a site, before its answer is read. */
export type PartStreaks = Record<SitePart, number>;

export function partStreaks(state: SiteState): PartStreaks {
  return Object.fromEntries(PARTS.map((part) => [part, state[part].failures])) as PartStreaks;
}

export interface PollerMetricsOptions {
  /** MATOMO_SITE_IDS: their labelled series exist from the start. */
  siteIds: readonly number[];
  /** Data ages and the cursor lag are measured on it. Default the system clock. */
  clock?: Clock;
  /** Node process metrics (a real process only). Default false. */
  defaultMetrics?: boolean;
}

export class PollerMetrics {
  readonly registry = new Registry();
  private readonly clock: Clock;
  private view: (() => PollerView) | undefined;

  readonly ticks = new Counter({
    name: 'matomo_live_poller_ticks_total',
    help: 'Poll ticks run (leader or not)',
    registers: [this.registry],
  });
  readonly tickDuration = new Histogram({
    name: 'matomo_live_poller_tick_duration_seconds',
    help: 'One tick that asked Matomo: from its start (cursor loads, the one Matomo request) to its last publish',
    buckets: BUCKETS,
    registers: [this.registry],
  });
  readonly requestDuration = new Histogram({
    name: 'matomo_live_poller_matomo_request_duration_seconds',
    help: 'Matomo requests, answered or failed, observed once per part each carried',
    labelNames: ['part'],
    buckets: BUCKETS,
    registers: [this.registry],
  });
  readonly failures = new Counter({
    name: 'matomo_live_poller_matomo_failures_total',
    help: 'Failed parts of Matomo requests, by part and kind',
    labelNames: ['part', 'kind'],
    registers: [this.registry],
  });
  readonly dataAge = new Gauge({
    name: 'matomo_live_poller_data_age_seconds',
    help: "Age of the part's last good value, for the sites this process leads",
    labelNames: ['site', 'part'],
    registers: [this.registry],
  });
  readonly sitesLed = new Gauge({
    name: 'matomo_live_poller_sites_led',
    help: 'Sites whose lease this process holds',
    registers: [this.registry],
  });
  readonly leaseHeld = new Gauge({
    name: 'matomo_live_poller_lease_held',
    help: "1 while this process holds the site's lease, 0 standing by",
    labelNames: ['site'],
    registers: [this.registry],
  });
  readonly published = new Counter({
    name: 'matomo_live_poller_snapshots_published_total',
    help: 'Snapshots published (content changed)',
    labelNames: ['site'],
    registers: [this.registry],
  });
  readonly unchanged = new Counter({
    name: 'matomo_live_poller_snapshots_unchanged_total',
    help: 'Ticks whose snapshot equalled the last published one (not published)',
    labelNames: ['site'],
    registers: [this.registry],
  });
  readonly eventsWritten = new Counter({
    name: 'matomo_live_poller_events_written_total',
    help: "Visit events appended to the site's stream",
    labelNames: ['site'],
    registers: [this.registry],
  });
  readonly cursorLag = new Gauge({
    name: 'matomo_live_poller_cursor_lag_seconds',
    help: "Now minus the upper end of the incremental fetch's last completed query (led sites, events on)",
    labelNames: ['site'],
    registers: [this.registry],
  });
  readonly redisUp = new Gauge({
    name: 'matomo_live_poller_redis_up',
    help: "1 while the poller's last Redis command (lease, publish, heartbeat) succeeded, else 0",
    registers: [this.registry],
  });
  readonly heartbeats = new Counter({
    name: 'matomo_live_poller_heartbeats_total',
    help: 'Site heartbeats published (ok) or not (error: Redis refused or unreachable)',
    labelNames: ['result'],
    registers: [this.registry],
  });
  /** Events already added to the counter, per site (the poller keeps running totals). */
  private readonly eventsCounted = new Map<number, number>();

  constructor({ siteIds, clock = systemClock, defaultMetrics = false }: PollerMetricsOptions) {
    this.clock = clock;
    if (defaultMetrics) {
      collectDefaultMetrics({ register: this.registry });
      for (const name of LINT_FAILING_DEFAULTS) this.registry.removeSingleMetric(name);
    }
    // Every known label value at 0, so a panel shows 0 rather than "No data" before the first failure.
    for (const part of PARTS) {
      this.requestDuration.zero({ part });
      for (const kind of FAILURE_KINDS) this.failures.inc({ part, kind }, 0);
    }
    for (const siteId of siteIds) {
      const site = String(siteId);
      this.published.inc({ site }, 0);
      this.unchanged.inc({ site }, 0);
      this.eventsWritten.inc({ site }, 0);
      this.leaseHeld.set({ site }, 0);
    }
    this.redisUp.set(0);
    for (const result of ['ok', 'error']) this.heartbeats.inc({ result }, 0);
  }

  /** The poller hands its sites over once; scrapes read them. */
  watch(view: () => PollerView): void {
    this.view = view;
  }

  tickStarted(): void {
    this.ticks.inc();
  }

  tickDone(seconds: number): void {
    this.tickDuration.observe(seconds);
  }

  /** One Matomo request carrying the parts of `slots`: its time for each part, and its failure (the whole request) if any. */
  matomoRequest(slots: readonly SiteSlots[], seconds: number, failedKind?: string): void {
    for (const { parts } of slots) {
      for (const part of Object.keys(parts) as SitePart[]) {
        this.requestDuration.observe({ part }, seconds);
        if (failedKind !== undefined) this.failures.inc({ part, kind: failureKindLabel(failedKind) });
      }
    }
  }

  /** Counts the parts of a site's answer that failed while it was read: `before` its streaks, `state` after. */
  partsRead(before: PartStreaks, state: SiteState): void {
    for (const part of PARTS) {
      if (state[part].failures > before[part]) this.failures.inc({ part, kind: failureKindLabel(state[part].lastKind) });
    }
  }

  /** What a site's publish did. */
  siteOutcome(siteId: number, outcome: 'published' | 'unchanged' | 'not-leader'): void {
    if (outcome === 'published') this.published.inc({ site: String(siteId) });
    else if (outcome === 'unchanged') this.unchanged.inc({ site: String(siteId) });
  }

  /** One site heartbeat published, or not. */
  heartbeatPublished(result: 'ok' | 'error'): void {
    this.heartbeats.inc({ result });
  }

  /**
   * `target` (the lease manager, the publisher) with each promise-returning
   * method reporting to redis_up: 1 when it resolves, 0 when it rejects.
   */
  trackRedis<T extends object>(target: T): T {
    return new Proxy(target, {
      get: (object, key, receiver) => {
        const value: unknown = Reflect.get(object, key, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          const result: unknown = (value as (...a: unknown[]) => unknown).apply(object, args);
          if (result instanceof Promise) {
            result.then(
              () => this.redisUp.set(1),
              () => this.redisUp.set(0),
            );
          }
          return result;
        };
      },
    });
  }

  /** Prometheus text of every metric, the ones read from the poller's sites brought up to date first. */
  metrics(): Promise<string> {
    this.collectSites();
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Scrape time: leases, data ages, events written and the cursor lag from the poller's sites. */
  private collectSites(): void {
    const view = this.view?.();
    if (!view) return;
    const now = this.clock.now();
    this.dataAge.reset();
    this.cursorLag.reset();
    let led = 0;
    for (const [siteId, state] of view.sites) {
      const site = String(siteId);
      const leading = now < state.leaderUntil;
      this.leaseHeld.set({ site }, leading ? 1 : 0);
      this.countEvents(siteId, state.eventCounts.visits);
      if (!leading) continue;
      led++;
      for (const part of PARTS) {
        const fetchedAt = state[part].fetchedAt;
        if (fetchedAt !== undefined) this.dataAge.set({ site, part }, Math.max(0, now - fetchedAt) / 1000);
      }
      const lag = cursorLagMs(state, now, view.matomoOffsetMs);
      if (view.eventsEnabled && lag !== undefined) this.cursorLag.set({ site }, lag / 1000);
    }
    this.sitesLed.set(led);
  }

  private countEvents(siteId: number, total: number): void {
    const counted = this.eventsCounted.get(siteId) ?? 0;
    if (total > counted) this.eventsWritten.inc({ site: String(siteId) }, total - counted);
    this.eventsCounted.set(siteId, Math.max(total, counted));
  }
}

/**
 * How far the visit events trail the present, ms: while catching up (the last
 * query hit EVENTS_PER_TICK) its upper end is the cursor's position; else the
 * query reached the present when it was asked. Undefined before the first.
 */
export function cursorLagMs(state: SiteState, now: number, matomoOffsetMs: number): number | undefined {
  const askedAt = state.cursor.fetchedAt;
  if (askedAt === undefined) return undefined;
  const upper = state.catchingUp && state.cursorState ? state.cursorState.after * 1000 - matomoOffsetMs : askedAt;
  return Math.max(0, now - upper);
}
