import { decodeSnapshot, type SelectableField, type Snapshot } from '@matomo-live/protocol';
import type { Logger } from '@matomo-live/shared';

/** One message ready to go out: the payload and its wire encoding, both built once per change. */
export interface OutgoingMessage {
  /** JSON text (for the whole snapshot: the bytes as published). */
  payload: Buffer;
  /** `encode(payload)`: for WebSockets, the complete unmasked text frame. */
  frame: Buffer;
  site: number;
  seq: number;
  /** When the hub received the snapshot (clock ms), for the receive→send lag metric. */
  receivedAt: number;
}

/** Something that wants a site's messages (a client connection). */
export interface HubSubscriber {
  deliver(message: OutgoingMessage): void;
}

export interface HubMembership {
  /** The variant's current message, or null before the site's first snapshot. */
  readonly current: OutgoingMessage | null;
  leave(): void;
}

export type AcceptOutcome = 'delivered' | 'duplicate' | 'malformed' | 'unknown-site';

export interface SnapshotHubOptions {
  siteIds: readonly number[];
  logger: Logger;
  /** Wire encoding of a payload, run once per change and variant. Default: identity. */
  encode?: (payload: Buffer) => Buffer;
  /** Clock, ms. Default Date.now. */
  now?: () => number;
}

/** Subscribers that asked for the same fields share one message per change. */
class Variant {
  readonly subscribers = new Set<HubSubscriber>();
  message: OutgoingMessage | null = null;
  /** JSON of the selected content without seq/updated_at: "changed" means this changed. */
  private contentKey: string | null = null;

  constructor(readonly fields: readonly SelectableField[] | undefined) {}

  /** Builds this variant's message for a snapshot; false when its own content did not change. */
  update(bytes: Buffer, snapshot: Snapshot, receivedAt: number, encode: (payload: Buffer) => Buffer): boolean {
    let payload = bytes;
    if (this.fields !== undefined) {
      const content: Record<string, unknown> = {};
      for (const field of this.fields) content[field] = snapshot[field];
      const key = JSON.stringify(content);
      if (key === this.contentKey) return false;
      this.contentKey = key;
      payload = Buffer.from(JSON.stringify({ ...content, site: snapshot.site, seq: snapshot.seq, updated_at: snapshot.updated_at }));
    }
    this.message = { payload, frame: encode(payload), site: snapshot.site, seq: snapshot.seq, receivedAt };
    return true;
  }
}

class SiteState {
  bytes: Buffer | null = null;
  snapshot: Snapshot | null = null;
  readonly variants = new Map<string, Variant>();
}

/**
 * Per site: the latest snapshot and its subscribers, transport-free. Seq rules:
 * the same seq again is a repeat (reconnect re-read, replays) and is dropped; a
 * different seq is delivered, a lower one too — the stream was reset (Redis came
 * back empty) and clients must follow it.
 */
export class SnapshotHub {
  private readonly sites = new Map<number, SiteState>();
  private readonly logger: Logger;
  private readonly encode: (payload: Buffer) => Buffer;
  private readonly now: () => number;

  constructor({ siteIds, logger, encode = (p) => p, now = Date.now }: SnapshotHubOptions) {
    for (const id of siteIds) this.sites.set(id, new SiteState());
    this.logger = logger;
    this.encode = encode;
    this.now = now;
  }

  hasSite(siteId: number): boolean {
    return this.sites.has(siteId);
  }

  /** The site's latest published bytes, or null. */
  latest(siteId: number): Buffer | null {
    return this.sites.get(siteId)?.bytes ?? null;
  }

  /** The site's latest snapshot, decoded from those bytes (read-only: it is shared), or null. */
  snapshot(siteId: number): Snapshot | null {
    return this.sites.get(siteId)?.snapshot ?? null;
  }

  /** Takes published bytes; malformed ones are logged and ignored, never thrown. */
  accept(siteId: number, bytes: Buffer): AcceptOutcome {
    const site = this.sites.get(siteId);
    if (site === undefined) return 'unknown-site';
    const decoded = decodeSnapshot(bytes);
    if ('error' in decoded) {
      this.logger.warn({ site: siteId, error: decoded.error, bytes: bytes.length }, 'ignoring a malformed snapshot');
      return 'malformed';
    }
    if (decoded.header.site !== siteId) {
      this.logger.warn({ site: siteId, claimed: decoded.header.site }, 'ignoring a snapshot of another site');
      return 'malformed';
    }
    if (site.snapshot !== null && site.snapshot.seq === decoded.header.seq) return 'duplicate';
    if (site.snapshot !== null && decoded.header.seq < site.snapshot.seq) {
      this.logger.info({ site: siteId, from: site.snapshot.seq, to: decoded.header.seq }, 'snapshot stream reset');
    }
    site.bytes = bytes;
    site.snapshot = decoded.snapshot;
    const receivedAt = this.now();
    for (const variant of site.variants.values()) {
      if (!variant.update(bytes, decoded.snapshot, receivedAt, this.encode)) continue;
      const message = variant.message as OutgoingMessage;
      for (const subscriber of variant.subscribers) subscriber.deliver(message);
    }
    return 'delivered';
  }

  /** Adds a subscriber to a site (must exist: check hasSite) for the given fields (undefined = all). */
  join(siteId: number, fields: readonly SelectableField[] | undefined, subscriber: HubSubscriber): HubMembership {
    const site = this.sites.get(siteId);
    if (site === undefined) throw new Error(`site ${siteId} is not served`);
    const key = fields?.join(',') ?? '*';
    let variant = site.variants.get(key);
    if (variant === undefined) {
      variant = new Variant(fields);
      if (site.bytes !== null && site.snapshot !== null) variant.update(site.bytes, site.snapshot, this.now(), this.encode);
      site.variants.set(key, variant);
    }
    variant.subscribers.add(subscriber);
    const owner = variant;
    return {
      current: variant.message,
      leave: () => {
        owner.subscribers.delete(subscriber);
        // The whole-snapshot variant stays: it is the common case and costs one frame per change.
        if (owner.subscribers.size === 0 && key !== '*') site.variants.delete(key);
      },
    };
  }
}
