import type { PollerTrouble, SiteHeartbeat } from '@matomo-live/shared';
import type { AttemptFailure, SiteState } from './site-state';

/**
 * Matomo 5's words when its Live plugin is deactivated, for every Live.* call
 * (`{"result":"error"}`, HTTP 200; "&gt;" in a plain call, ">" inside a bulk
 * request): "The plugin Live is not enabled. You can activate the plugin on
 * Settings > Plugins page in Matomo." (../shared/tools/real-matomo/responses/
 * api-unknown-method.json and bulk-mixed-errors.json, for another plugin name).
 */
const LIVE_DISABLED = /\bplugin Live is not (enabled|activated)\b/i;

export function isLiveDisabled(message: string): boolean {
  return LIVE_DISABLED.test(message);
}

/**
 * Pure: what keeps the poller from reading or publishing a site, from how its
 * latest attempt failed (undefined: it was published) and whether Matomo
 * refuses the token or blocks this IP (tick-health's authBlocked, which holds
 * between the slow attempts). docs/POLLER.md, "Heartbeat", has the table.
 */
export function troubleOf(failure: AttemptFailure | undefined, authBlocked: boolean): PollerTrouble | null {
  if (authBlocked) return 'auth_refused';
  if (failure === undefined) return null;
  const { kind } = failure;
  switch (kind) {
    case 'auth':
    case 'auth-blocked':
      return 'auth_refused';
    case 'network':
    case 'timeout':
    case 'http':
      return 'matomo_unreachable';
    case 'api-error':
      return isLiveDisabled(failure.message) ? 'live_disabled' : 'matomo_error';
    case 'not-json':
    case 'invalid-json':
    case 'shape':
    case 'internal':
      return 'matomo_error';
    case 'publish':
      return 'publish_failing';
    default: {
      const unknown: never = kind;
      return unknown;
    }
  }
}

/**
 * When the site's latest visits were last read from Matomo (poller clock, ms):
 * the full read (`visits`), or the incremental fetch (`cursor`) once it keeps
 * a full read current — between full reads (LIVE_REFRESH_INTERVAL, 60 s) only
 * the cursor is asked. Undefined before the first read.
 */
export function liveReadAt(s: SiteState): number | undefined {
  const full = s.visits.fetchedAt;
  const cursor = s.latest.seeded ? s.cursor.fetchedAt : undefined;
  if (full === undefined) return cursor;
  return cursor === undefined ? full : Math.max(full, cursor);
}

export interface HeartbeatContext {
  now: number;
  fetchIntervalMs: number;
  /** Matomo refuses the token or blocks this IP (tick-health.ts). */
  authBlocked: boolean;
}

/**
 * Pure: the heartbeat of a site at `now`, or undefined when none is due: the
 * site is not led (a standby sends nothing), or nothing was tried since
 * leadership came (the previous leader's last heartbeat stands until then,
 * rather than a "no data yet" that would flash on every screen at a
 * failover) — except while auth is blocked, when the next attempt can be
 * minutes away.
 */
export function siteHeartbeat(siteId: number, s: SiteState, ctx: HeartbeatContext): SiteHeartbeat | undefined {
  const { now, fetchIntervalMs, authBlocked } = ctx;
  if (!(now < s.leaderUntil)) return undefined;
  if (s.lastAttempt === undefined && !authBlocked) return undefined;
  const readAt = liveReadAt(s);
  return {
    site: siteId,
    fetch_interval_ms: fetchIntervalMs,
    data_age_ms: readAt === undefined ? null : Math.max(0, now - readAt),
    trouble: troubleOf(s.lastAttempt?.failure, authBlocked),
  };
}
