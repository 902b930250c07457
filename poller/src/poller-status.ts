import type { SitePart } from './bulk-request';
import type { MatomoFailureKind } from './matomo-client';

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
