import type { Summary } from '@matomo-live/protocol';
import type { Logger, SiteTimezone, SnapshotPublisher } from '@matomo-live/shared';
import { LatestVisits } from './latest-visits';
import type { LiveToday, TimedCounters, TodayFloor } from './live-today';
import { PartState } from './part-state';
import type { FailingPart, SiteStatus, TickFailureKind } from './poller-status';
import { cursorFromStore, freshCursor, type CursorState } from './visit-cursor';

/** What the poller knows about one site: each part of Matomo's answer, the cursor, and what was published. */
export interface SiteState {
  /** SitesManager.getSiteFromId: the timezone. */
  site: PartState<SiteTimezone>;
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
  /**
   * The latest attempt at the site while leading (the heartbeat's `trouble`): when it ended, and why it failed —
   * the site's own failure, or the whole tick's when the Matomo request failed; undefined when it was published.
   * Undefined before the first attempt and after leadership changes hands.
   */
  lastAttempt: { at: number; failure: AttemptFailure | undefined } | undefined;
}

/** Why an attempt at a site failed (a TickFailure's kind and message). */
export interface AttemptFailure {
  kind: TickFailureKind;
  message: string;
}

/** A site's state before anything is known; `leased`: leadership comes from the lease loop, else it is ours for good. */
export function createSiteState(liveLimit: number, leased: boolean): SiteState {
  return {
    site: new PartState(),
    visits: new PartState(),
    cursor: new PartState(),
    latest: new LatestVisits(liveLimit),
    cursorState: undefined,
    catchingUp: false,
    eventCounts: { visits: 0, gaps: 0, capHits: 0 },
    summary: new PartState(),
    counters: new PartState(),
    today: new PartState(),
    todayFloor: undefined,
    leaderUntil: leased ? 0 : Infinity,
    lastSeq: 0,
    lastDigest: undefined,
    digestSeenAt: 0,
    lastPublishedAt: undefined,
    lastError: undefined,
    lastAttempt: undefined,
  };
}

/** What a site's state holds only while leading: read again after leadership changes hands. */
export function forgetLeadState(state: SiteState): void {
  state.cursorState = undefined;
  state.latest.clear();
  state.catchingUp = false;
  state.lastAttempt = undefined;
  // Reads from an earlier stint as leader say nothing of the data now (another poller kept it fresh): the
  // heartbeat must not report their age. The next attempt makes a full read anyway.
  state.visits.fetchedAt = undefined;
  state.cursor.fetchedAt = undefined;
}

/** Records how the latest attempt at the site ended: `failure` undefined when it was published. */
export function noteAttempt(state: SiteState, at: number, failure: AttemptFailure | undefined): void {
  state.lastAttempt = { at, failure: failure && { kind: failure.kind, message: failure.message } };
}

/** The instant after which the cursor's next query asks for visits, as ISO text. */
export function cursorAfterIso(cursor: CursorState): string {
  return new Date((cursor.after + 1) * 1000).toISOString();
}

const iso = (t: number | undefined) => (t === undefined ? null : new Date(t).toISOString());

/** The site's part of /healthz. */
export function siteStatus(siteId: number, s: SiteState, now: number, eventsEnabled: boolean): SiteStatus {
  return {
    siteId,
    leader: now < s.leaderUntil,
    timezone: s.site.value?.name ?? null,
    seq: s.lastSeq || null,
    lastPublishedAt: iso(s.lastPublishedAt),
    lastError: s.lastError ?? null,
    summaryAgeSeconds: s.summary.ageSeconds(now),
    todayAgeSeconds: s.today.ageSeconds(now),
    countersAgeSeconds: s.counters.ageSeconds(now),
    failingParts: (['visits', 'cursor', 'counters', 'today', 'site', 'summary'] as const).flatMap((part): FailingPart[] => {
      const p = s[part];
      return p.failures > 0 ? [{ part, failures: p.failures, since: iso(p.failingSince)!, error: p.lastError ?? 'failed' }] : [];
    }),
    events: {
      enabled: eventsEnabled,
      cursorAfter: s.cursorState ? cursorAfterIso(s.cursorState) : null,
      visits: s.eventCounts.visits,
      gaps: s.eventCounts.gaps,
      capHits: s.eventCounts.capHits,
      catchingUp: s.catchingUp,
    },
  };
}

/**
 * Loads the cursor of led sites that have none (after start or a leadership
 * change) from the store, where the last leader wrote it with its events.
 * A site whose load fails is polled without the cursor this tick.
 */
export async function loadCursors(
  led: Array<[number, SiteState]>,
  matomoNowS: number,
  deps: { publisher: SnapshotPublisher; log: Logger; eventsRetentionMs: number },
): Promise<void> {
  await Promise.all(
    led.map(async ([siteId, state]) => {
      if (state.cursorState !== undefined) return;
      if (deps.eventsRetentionMs <= 0) {
        // Nothing stored without events: the full read of the latest visits covers what came before.
        state.cursorState = freshCursor(matomoNowS, 60);
        return;
      }
      try {
        const stored = await deps.publisher.readCursor(siteId);
        state.cursorState = stored ? cursorFromStore(stored) : freshCursor(matomoNowS, deps.eventsRetentionMs / 1000);
        deps.log.info({ siteId, after: cursorAfterIso(state.cursorState), stored: stored !== null }, 'visit cursor loaded');
      } catch (error) {
        deps.log.warn({ siteId, err: error }, 'could not read the visit cursor; polling without it this tick');
      }
    }),
  );
}
