import { createHash } from 'node:crypto';
import { decodeSnapshot, type Snapshot, type SnapshotContent } from '@matomo-live/protocol';

/**
 * The server side of the message format (@matomo-live/protocol defines it and
 * decodes it): the published bytes and the digest that decides "changed".
 */

/**
 * The highest seq a poller publishes (10^15 − 1 ms: the year 33658), far below 2^53 − 1. A seq at or above it
 * was set by hand or by an attacker on Redis's network: the poller overwrites such a stored seq instead of
 * following it, and a gateway does not let one hold back the snapshots after it.
 */
export const MAX_SEQ = 999_999_999_999_999;

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
    for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
    return sorted;
  });
}

const SEQ_FIELD = Buffer.from('"seq":');

/**
 * The seq of published bytes without parsing them: encodeSnapshot() writes
 * `"seq":N` after the content, so the last occurrence is the header's. Falls
 * back to a full parse for bytes another encoder wrote; undefined when there is none.
 */
export function snapshotSeq(bytes: Buffer): number | undefined {
  const at = bytes.lastIndexOf(SEQ_FIELD);
  if (at >= 0) {
    let end = at + SEQ_FIELD.length;
    let value = 0;
    while (end < bytes.length && bytes[end]! >= 0x30 && bytes[end]! <= 0x39) value = value * 10 + (bytes[end++]! - 0x30);
    if (end > at + SEQ_FIELD.length && (bytes[end] === 0x2c || bytes[end] === 0x7d) && Number.isSafeInteger(value)) return value;
  }
  const decoded = decodeSnapshot(bytes);
  return 'error' in decoded ? undefined : decoded.header.seq;
}
