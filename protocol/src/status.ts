/**
 * Freshness of a site's data, sent by the gateway to clients that ask for it
 * (`?status=1`): a snapshot says what the numbers are, a status message says
 * whether they are still current. It travels beside the snapshots (not inside
 * them) because a snapshot is only sent when its content changes: a quiet
 * site sends no snapshot for hours and is still live.
 */

/** Why a site's data is stale. */
export type StaleReason =
  /** No poller has reported on the site for `stale_after_ms`: it stopped, or cannot reach Redis. */
  | 'poller_silent'
  /** The poller cannot reach Matomo: refused, reset, timed out, or an HTTP error status. */
  | 'matomo_unreachable'
  /** Matomo refuses the poller's token, or blocks its address after failed logins. */
  | 'auth_refused'
  /** Matomo's Live plugin is disabled: there are no live visits to read. */
  | 'live_disabled'
  /** Matomo answers, but not with usable data (an error, a login page, an unexpected shape). */
  | 'matomo_error'
  /** The poller reads Matomo but cannot publish (Redis). */
  | 'publish_failing'
  /** The poller reports, but the live data it holds is older than `stale_after_ms`. */
  | 'data_old';

export const STALE_REASONS: readonly StaleReason[] = [
  'poller_silent',
  'matomo_unreachable',
  'auth_refused',
  'live_disabled',
  'matomo_error',
  'publish_failing',
  'data_old',
];

/** A short text for each reason, as a screen shows it ("Data delayed — last update 3 min ago: Matomo unreachable"). */
export const STALE_REASON_TEXT: Readonly<Record<StaleReason, string>> = {
  poller_silent: 'the poller is not reporting',
  matomo_unreachable: 'Matomo unreachable',
  auth_refused: 'Matomo refuses the access token',
  live_disabled: "Matomo's Live plugin is disabled",
  matomo_error: 'Matomo answers with errors',
  publish_failing: 'the data cannot be published',
  data_old: 'no new data from Matomo',
};

/** The text of a reason; a generic one for a reason this version does not know. */
export function staleReasonText(reason: string): string {
  return (STALE_REASON_TEXT as Readonly<Record<string, string | undefined>>)[reason] ?? 'for a reason this screen does not know';
}

/**
 * Sent when a connection that asked for it opens (once the site's state is
 * known) and whenever the site's state or reason changes.
 */
export interface StatusMessage {
  type: 'status';
  site: number;
  /** `live`: the data is current (even when nothing changed). `stale`: it is not. */
  state: 'live' | 'stale';
  /**
   * Why it is stale; null when live. A later version may send a reason not in
   * StaleReason: a client shows it as stale with a generic text (staleReasonText).
   */
  reason: StaleReason | null;
  /**
   * How old the data was when the gateway sent this message, ms: since the
   * poller last read the site's live visits from Matomo. Null before the
   * first read. A client adds the time since it received the message (no
   * clock comparison between machines is needed).
   */
  data_age_ms: number | null;
  /** Data older than this is stale: max(3 × the poller's FETCH_INTERVAL, 15 s). */
  stale_after_ms: number;
}

/** The query parameter (`?status=1`) that asks for status messages; without it a connection receives none. */
export const STATUS_PARAM = 'status';

/** Data older than this is stale: three polling intervals, and never less than 15 s. */
export function staleAfterMs(fetchIntervalMs: number): number {
  return Math.max(3 * fetchIntervalMs, 15_000);
}

/** A parsed JSON value as a StatusMessage, or undefined when it is not one (callers ignore it). */
export function asStatusMessage(value: unknown): StatusMessage | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const m = value as Partial<StatusMessage>;
  if (m.type !== 'status') return undefined;
  if (!Number.isSafeInteger(m.site) || (m.site as number) < 1) return undefined;
  if (m.state !== 'live' && m.state !== 'stale') return undefined;
  if (m.reason !== null && typeof m.reason !== 'string') return undefined;
  if (m.state === 'stale' && m.reason === null) return undefined;
  if (m.data_age_ms !== null && !(typeof m.data_age_ms === 'number' && Number.isFinite(m.data_age_ms) && m.data_age_ms >= 0))
    return undefined;
  if (!(typeof m.stale_after_ms === 'number' && Number.isFinite(m.stale_after_ms) && m.stale_after_ms > 0)) return undefined;
  return m as StatusMessage;
}
