import { createHash } from 'node:crypto';

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

/** sha256 of the content with keys sorted at every level: equal content ⇔ equal digest. */
export function contentDigest(content: SnapshotContent): string {
  return createHash('sha256').update(canonicalJson(content)).digest('hex');
}

/** The published bytes: content keys in their readable order, then seq and updated_at. */
export function encodeSnapshot(content: SnapshotContent, seq: number, updatedAt: Date): Buffer {
  const message: Snapshot = { ...content, seq, updated_at: updatedAt.toISOString() };
  return Buffer.from(JSON.stringify(message));
}

/** JSON with object keys sorted recursively; arrays keep their order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const k of Object.keys(v as object).sort()) sorted[k] = (v as Record<string, unknown>)[k];
    return sorted;
  });
}

export interface SnapshotHeader {
  site: number;
  seq: number;
}

/**
 * Parses published bytes and returns the message plus its header, or an
 * error string when the bytes are not a snapshot (callers log and ignore it).
 */
export function decodeSnapshot(bytes: Buffer | string): { snapshot: Snapshot; header: SnapshotHeader } | { error: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof bytes === 'string' ? bytes : bytes.toString('utf8'));
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
