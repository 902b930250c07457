import { STALE_REASONS, staleAfterMs, type StaleReason, type StatusMessage } from '@matomo-live/protocol';

/** Trouble only the poller can see (the gateway adds `poller_silent` and `data_old` itself). */
export type PollerTrouble = Exclude<StaleReason, 'poller_silent' | 'data_old'>;

/**
 * What the poller leading a site reports about it every few seconds, whether
 * or not the snapshot changed (published on `{…site:N}:heartbeat` and stored
 * under the same name with a TTL of heartbeatTtlMs(fetch_interval_ms)).
 */
export interface SiteHeartbeat {
  site: number;
  /** The poller's FETCH_INTERVAL, ms: the gateway derives the stale threshold from it. */
  fetch_interval_ms: number;
  /** Ms since the site's live visits were last read from Matomo, at sending; null before the first read. */
  data_age_ms: number | null;
  /** What keeps the poller from reading or publishing the site now; null when nothing does. */
  trouble: PollerTrouble | null;
}

/** How long the stored heartbeat lives: the stale threshold, so an expired key means a silent poller. */
export function heartbeatTtlMs(fetchIntervalMs: number): number {
  return staleAfterMs(fetchIntervalMs);
}

/** How long ago a heartbeat read from the store was stored, from the TTL it has left (it was stored with heartbeatTtlMs). */
export function storedHeartbeatAgeMs(heartbeat: SiteHeartbeat, ttlLeftMs: number): number {
  return Math.max(0, heartbeatTtlMs(heartbeat.fetch_interval_ms) - ttlLeftMs);
}

export function encodeHeartbeat(heartbeat: SiteHeartbeat): Buffer {
  const { site, fetch_interval_ms, data_age_ms, trouble } = heartbeat;
  return Buffer.from(JSON.stringify({ site, fetch_interval_ms, data_age_ms, trouble }));
}

/** Parses published bytes; an error string when they are not a heartbeat (callers log and ignore it). */
export function decodeHeartbeat(bytes: Buffer | string): { heartbeat: SiteHeartbeat } | { error: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString());
  } catch {
    return { error: 'not JSON' };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return { error: 'not an object' };
  const h = parsed as Partial<SiteHeartbeat>;
  if (!Number.isSafeInteger(h.site) || (h.site as number) < 1) return { error: 'site is not a site id' };
  if (!(typeof h.fetch_interval_ms === 'number' && h.fetch_interval_ms > 0 && Number.isFinite(h.fetch_interval_ms)))
    return { error: 'fetch_interval_ms is not a positive number' };
  if (h.data_age_ms !== null && !(typeof h.data_age_ms === 'number' && h.data_age_ms >= 0 && Number.isFinite(h.data_age_ms)))
    return { error: 'data_age_ms is neither null nor a duration' };
  const troubles: readonly unknown[] = STALE_REASONS.filter((r) => r !== 'poller_silent' && r !== 'data_old');
  if (h.trouble !== null && !troubles.includes(h.trouble)) return { error: 'trouble is not a known reason' };
  return { heartbeat: h as SiteHeartbeat };
}

/** What a gateway knows of a site's poller at `now` (its own clock, ms). */
export interface HeartbeatSighting {
  /** The latest heartbeat, or undefined when none has been heard since `since`. */
  heartbeat: SiteHeartbeat | undefined;
  /** When it was heard (received or read from Redis). */
  heardAt: number;
  /** When the gateway started listening for the site: silence is counted from here until a first heartbeat. */
  since: number;
}

/** Used before any heartbeat tells the real interval: the stale threshold is then its 15 s floor. */
const UNKNOWN_INTERVAL_MS = 0;

export interface FreshnessVerdict {
  /** The message for clients; undefined while the state is not known yet (listening for less than the threshold). */
  status: Omit<StatusMessage, 'type'> | undefined;
  /** When the verdict changes if no heartbeat comes before (gateway clock, ms): the time to judge again. */
  recheckAt: number;
}

/**
 * Whether a site's data is current, from the last heartbeat and how long ago
 * it came. Stale when: no heartbeat for stale_after_ms (`poller_silent`); the
 * poller reports trouble; or the live data it reported was older than
 * stale_after_ms (`data_old`). Pure: the gateway calls it on each heartbeat
 * and at recheckAt.
 */
export function judgeFreshness(siteId: number, sighting: HeartbeatSighting, now: number): FreshnessVerdict {
  const { heartbeat, heardAt, since } = sighting;
  const staleAfter = staleAfterMs(heartbeat?.fetch_interval_ms ?? UNKNOWN_INTERVAL_MS);
  if (heartbeat === undefined) {
    const silentAt = since + staleAfter;
    if (now < silentAt) return { status: undefined, recheckAt: silentAt };
    return { status: stale(siteId, 'poller_silent', null, staleAfter), recheckAt: Number.POSITIVE_INFINITY };
  }
  const silence = Math.max(0, now - heardAt);
  const dataAge = heartbeat.data_age_ms === null ? null : heartbeat.data_age_ms + silence;
  if (silence >= staleAfter) return { status: stale(siteId, 'poller_silent', dataAge, staleAfter), recheckAt: Number.POSITIVE_INFINITY };
  const silentAt = heardAt + staleAfter;
  if (heartbeat.trouble !== null) return { status: stale(siteId, heartbeat.trouble, dataAge, staleAfter), recheckAt: silentAt };
  // The age as the poller reported it: between heartbeats only silence changes the verdict, so a poller that
  // stops reads as `poller_silent` at once, not as `data_old` a moment before.
  if (heartbeat.data_age_ms === null || heartbeat.data_age_ms >= staleAfter)
    return { status: stale(siteId, 'data_old', dataAge, staleAfter), recheckAt: silentAt };
  return { status: { site: siteId, state: 'live', reason: null, data_age_ms: dataAge, stale_after_ms: staleAfter }, recheckAt: silentAt };
}

function stale(site: number, reason: StaleReason, dataAge: number | null, staleAfter: number): Omit<StatusMessage, 'type'> {
  return { site, state: 'stale', reason, data_age_ms: dataAge, stale_after_ms: staleAfter };
}
