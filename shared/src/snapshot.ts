import { createHash } from 'node:crypto';
import type { Snapshot, SnapshotContent } from '@matomo-live/protocol';

/**
 * The server side of the message format (@matomo-live/protocol defines it and
 * decodes it): the published bytes and the digest that decides "changed".
 */

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
