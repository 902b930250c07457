import type { PollerConfig } from '@matomo-live/shared';
import type { SiteQuery } from './bulk-request';
import { todayWindow, type TodayWindow } from './live-today';
import type { SiteState } from './site-state';
import { cursorQuery, startOf, type CursorState } from './visit-cursor';

/** The cursor's query of this tick: where it starts, and whether it jumped over lost history. */
export interface CursorPlan {
  state: CursorState;
  jumped: boolean;
}

/** What to ask about one site this tick, with the "today" window asked for and the cursor's plan (when asked). */
export interface SitePlan {
  query: SiteQuery;
  /** The window of the `today` part, when it is asked. */
  todayWindow: TodayWindow | undefined;
  cursor: CursorPlan | undefined;
}

export type PlanConfig = Pick<
  PollerConfig,
  'eventsRetentionMs' | 'eventsPerTick' | 'liveRefreshIntervalMs' | 'summaryIntervalMs' | 'todayIntervalMs' | 'liveLimit'
>;

/**
 * Pure: which parts of a site are due at `now` (our clock; `matomoOffsetMs`
 * turns it into Matomo's), given what the site's state holds. `backoffBaseMs`
 * is the retry delay of a failing part.
 */
export function planSite(
  siteId: number,
  s: SiteState,
  now: number,
  matomoOffsetMs: number,
  config: PlanConfig,
  backoffBaseMs: number,
): SitePlan {
  const zone = s.site.value;
  const base = backoffBaseMs;
  let plan: CursorPlan | undefined;
  let cursor: SiteQuery['cursor'];
  if (s.cursorState !== undefined) {
    const retentionS = config.eventsRetentionMs > 0 ? config.eventsRetentionMs / 1000 : 3600;
    plan = startOf(s.cursorState, Math.floor((now + matomoOffsetMs) / 1000), retentionS);
    cursor = cursorQuery(plan.state, config.eventsPerTick);
  }
  // The full read: to seed, now and then to catch what no cursor sees (deleted visits, out-of-order hits),
  // and while the cursor cannot keep the latest visits current (failing, or catching up on a backlog).
  const withVisits =
    !s.latest.seeded ||
    cursor === undefined ||
    s.catchingUp ||
    s.cursor.failures > 0 ||
    s.visits.due(now, config.liveRefreshIntervalMs, base);
  const window = zone && todayWindow(now + matomoOffsetMs, zone);
  // After local midnight "today" is another day: refresh at once rather than show yesterday's totals as today's.
  const withSummary = !window || s.summary.due(now, config.summaryIntervalMs, base, s.summary.value?.today.date !== window.date);
  const todayDue =
    window !== undefined &&
    config.todayIntervalMs > 0 &&
    s.today.due(now, config.todayIntervalMs, base, s.today.value?.date !== window.date);
  return {
    query: {
      siteId,
      liveLimit: config.liveLimit,
      withVisits,
      cursor,
      withSite: !window || withSummary,
      withSummary,
      todayMinutes: todayDue ? window.minutes : undefined,
    },
    todayWindow: todayDue ? window : undefined,
    cursor: plan,
  };
}
