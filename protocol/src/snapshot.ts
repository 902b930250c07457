/**
 * The message format. The first two keys are the reference script's message
 * (`{"visits_live": [...], "summary": {today, yesterday, day_before}}`), which
 * existing screens parse; everything else is an addition old clients ignore.
 */

/** One live visit, in the reference's shape plus extra keys. */
export interface LiveVisit {
  latitude: number | null;
  longitude: number | null;
  city: string;
  countryCode: string;
  country: string;
  actions: number;
  /** "" unless PUBLISH_VISITOR_IP is on (personal data). */
  visitIp: string;
  operatingSystem: string;
  browserName: string;
  /** Matomo's referrerName ("" for direct entries). */
  source: string;
  /** "YYYY-MM-DD HH:MM:SS" in the site's timezone (the reference's field). */
  lastActionDateTime: string;
  /** Extra: the same instant in UTC, ISO 8601 ("2024-07-04T16:43:37Z"). */
  lastActionUtc: string;
}

/** One day's totals: the reference's two fields plus richer extras. */
export interface DaySummary {
  visits: number;
  /** Summed visit length as "HH:MM:SS" (hours may exceed 24). */
  time_spent: string;
  /** Extra: the site-local date, "YYYY-MM-DD". */
  date: string;
  /** Extra: summed visit length in seconds. */
  time_spent_seconds: number;
  actions: number;
  unique_visitors: number;
  bounce_count: number;
}

export interface Summary {
  today: DaySummary;
  yesterday: DaySummary;
  day_before: DaySummary;
}

/** Live.getCounters over the last `minutes` minutes. */
export interface Counters {
  minutes: number;
  visits: number;
  actions: number;
  visitors: number;
  visits_converted: number;
}

/** What the poller derives from Matomo: everything but the envelope. */
export interface SnapshotContent {
  visits_live: LiveVisit[];
  summary: Summary;
  counters: Counters | null;
  site: number;
  /** The site's timezone as Matomo states it (IANA name or "UTC+3"). */
  timezone: string;
}

/** The published message. */
export interface Snapshot extends SnapshotContent {
  /** Per-site sequence number; only grows, except when a stream is reset (then consumers deliver it anyway). */
  seq: number;
  /** When this content was first seen, ISO 8601 UTC. */
  updated_at: string;
}

export interface SnapshotHeader {
  site: number;
  seq: number;
}

const utf8 = new TextDecoder('utf-8');

/**
 * Parses published bytes (or text) and returns the message plus its header,
 * or an error string when they are not a snapshot (callers log and ignore it).
 */
export function decodeSnapshot(bytes: Uint8Array | string): { snapshot: Snapshot; header: SnapshotHeader } | { error: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof bytes === 'string' ? bytes : utf8.decode(bytes));
  } catch {
    return { error: 'not JSON' };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return { error: 'not an object' };
  const m = parsed as Partial<Snapshot>;
  if (!Array.isArray(m.visits_live)) return { error: 'visits_live is not an array' };
  if (m.summary === null || typeof m.summary !== 'object') return { error: 'summary is missing' };
  if (!Number.isSafeInteger(m.seq) || (m.seq as number) < 0) return { error: 'seq is not a whole number' };
  if (!Number.isSafeInteger(m.site) || (m.site as number) < 1) return { error: 'site is not a site id' };
  return { snapshot: m as Snapshot, header: { site: m.site as number, seq: m.seq as number } };
}
