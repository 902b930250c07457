import { InMemoryEventStreams, type EventsWrite, type StoredCursor } from './event-contracts';

/**
 * The transport between poller and gateways, as the two sides see it. Redis
 * implements it in production (poller/src/redis-publisher.ts,
 * gateway/src/snapshots/redis-snapshot-feed.ts); InMemorySnapshotBus implements both sides in one
 * process for the single-process mode and for unit tests of code above it.
 */

/** What is stored for a site: the seq and content digest of its snapshot. */
export interface StoredState {
  seq: number;
  digest: string;
}

/** What became of a publish's events (when it carried some): their ids and the cursor version now stored. */
export interface EventsOutcome {
  ids: string[];
  cursorVersion: number;
}

export type PublishOutcome =
  /** Stored and published; `receivers`: subscribers that got it where the transport tells (Redis: on the publishing node). */
  | {
      kind: 'published';
      seq: number;
      receivers?: number;
      events?: EventsOutcome;
      /** The stored state could not be trusted (a seq no poller can pass, a snapshot key not as stored) and was overwritten. */
      corrupt?: 'seq' | 'snapshot';
    }
  /** The stored snapshot has this digest already: nothing stored or published (the events, if any, were). */
  | { kind: 'unchanged'; seq: number; events?: EventsOutcome }
  /** The stored cursor's version is not the one the request expected (a failover rolled it back, or another poller wrote): nothing written. */
  | { kind: 'cursor-stale'; version: number }
  /** The stored seq is ≥ the offered one: retry with a seq above storedSeq. */
  | { kind: 'seq-behind'; storedSeq: number }
  /** Another poller holds the site's lease (fencing). */
  | { kind: 'not-leader' };

export interface PublishRequest {
  /**
   * Without `events`: the cursor version the caller holds, checked anyway. A stored cursor that vanished (Redis
   * came back empty) or moved answers `cursor-stale` (nothing written), so the loss is noticed on the next tick,
   * not at the next visit. Default: no check.
   */
  cursorVersion?: number;
  /** contentDigest() of the content inside `bytes`. */
  digest: string;
  /** The seq inside `bytes`. */
  seq: number;
  /** The exact bytes stored and published. */
  bytes: Buffer;
  /** Lease owner id; when given, the publish is refused unless this owner holds the lease. */
  leaseOwner?: string;
  /**
   * The highest seq the caller knows was stored for the site. A stored state
   * below it was lost or rolled back (a Redis failover dropped acknowledged
   * writes), so the bytes are stored and published again even when the
   * digest matches: gateways compare seqs, never digests. Default 0.
   */
  knownSeq?: number;
  /**
   * Visit events to append and the cursor that produced them, written in the
   * same atomic step: after the lease and seq checks pass (so a refused
   * publish writes neither), whether or not the snapshot changed.
   */
  events?: EventsWrite;
}

/**
 * A heartbeat read from the store, not just published: it was stored with a TTL of
 * heartbeatTtlMs(fetch_interval_ms), so it is that minus `ttlLeftMs` old (storedHeartbeatAgeMs). A gateway that
 * counted it as heard now would restart the silence count of a dead poller.
 */
export interface StoredHeartbeat {
  bytes: Buffer;
  ttlLeftMs: number;
}

/** Receives each heartbeat: `ttlLeftMs` when it was read from the store (see StoredHeartbeat), undefined when just published. */
export type HeartbeatHandler = (bytes: Buffer, ttlLeftMs?: number) => void;

/** The poller's side. */
export interface SnapshotPublisher {
  /** The stored state of a site, or null when nothing is stored. */
  readState(siteId: number): Promise<StoredState | null>;
  /** The stored cursor of the site's incremental fetch, or null when none was written. */
  readCursor(siteId: number): Promise<StoredCursor | null>;
  /**
   * Atomically: unless a snapshot is stored with the same digest (and a seq
   * of at least `knownSeq`), store `bytes`, record digest and seq, and publish
   * `bytes` once on the site's channel. With `events`: append them (each
   * naming its predecessor), move the cursor, announce them on the site's
   * events channel — or refuse everything with `cursor-stale`.
   */
  publish(siteId: number, request: PublishRequest): Promise<PublishOutcome>;
  /**
   * Stores `bytes` (an encoded SiteHeartbeat) as the site's latest heartbeat
   * for `ttlMs` and publishes them once on the site's heartbeat channel.
   */
  publishHeartbeat(siteId: number, bytes: Buffer, ttlMs: number): Promise<void>;
}

/** The gateway's side. */
export interface SnapshotFeed {
  /**
   * Starts delivering the site's published snapshots to `onSnapshot` and
   * resolves with the cached snapshot (null when none). The cache is read
   * after the subscription is in place, so nothing published in between is
   * lost. After a reconnect the feed re-reads the cache and delivers it again:
   * the same snapshot may arrive more than once, consumers drop repeats by seq.
   */
  subscribe(siteId: number, onSnapshot: (bytes: Buffer) => void): Promise<Buffer | null>;
  /**
   * Starts delivering the site's heartbeats to `onHeartbeat` and resolves with
   * the stored one (null when none, or expired). Like `subscribe`, the key is
   * read after the subscription is in place; after a reconnect the feed reads
   * it again and delivers it with its `ttlLeftMs` (the same heartbeat may
   * arrive more than once). A heartbeat just published comes without it.
   */
  watchHeartbeat(siteId: number, onHeartbeat: HeartbeatHandler): Promise<StoredHeartbeat | null>;
  /** True while subscribed and connected (readiness). */
  isReady(): boolean;
  /** Counters of the feed's repairs, for metrics; absent where nothing can be lost (in memory). */
  stats?(): FeedStats;
  close(): Promise<void>;
}

/** What a feed did to make up for lost messages, counted since it was created. */
export interface FeedStats {
  /** Per site: snapshots re-read because the stored seq was ahead of the last delivered one with no message arriving. */
  gapsHealed: Record<number, number>;
  /** Subscriptions dropped and made again because gaps kept being found on them. */
  resubscribes: number;
  /** Re-reads of every site after a reconnect or a failover. */
  resyncs: number;
  /** Seq checks made (one per site per check round). */
  seqChecks: number;
  /** Seq checks that failed (Redis unreachable or failing over). */
  seqCheckErrors: number;
}

/** Both sides in one process: the single-process mode's replacement for Redis, events included. */
export class InMemorySnapshotBus implements SnapshotPublisher, SnapshotFeed {
  private readonly stored = new Map<number, { bytes: Buffer; state: StoredState }>();
  private readonly listeners = new Map<number, (bytes: Buffer) => void>();
  private readonly heartbeats = new Map<number, { bytes: Buffer; expiresAt: number }>();
  private readonly heartbeatListeners = new Map<number, HeartbeatHandler>();
  /** Heartbeat TTLs count on this clock (ms). */
  constructor(private readonly now: () => number = Date.now) {}
  /** The gateway's EventSource in this process. */
  readonly events = new InMemoryEventStreams();

  async readState(siteId: number): Promise<StoredState | null> {
    return this.stored.get(siteId)?.state ?? null;
  }

  async readCursor(siteId: number): Promise<StoredCursor | null> {
    return this.events.readCursor(siteId);
  }

  async publish(siteId: number, { digest, seq, bytes, knownSeq = 0, events }: PublishRequest): Promise<PublishOutcome> {
    const current = this.stored.get(siteId);
    const unchanged = current !== undefined && current.state.digest === digest && current.state.seq >= knownSeq;
    if (!unchanged && current && current.state.seq >= seq) return { kind: 'seq-behind', storedSeq: current.state.seq };
    let eventsOutcome: { ids: string[]; cursorVersion: number } | undefined;
    if (events) {
      const version = this.events.cursorVersion(siteId);
      if (version !== events.cursor.expectedVersion) return { kind: 'cursor-stale', version };
      eventsOutcome = { ids: this.events.append(siteId, events), cursorVersion: version + 1 };
    }
    if (unchanged) return { kind: 'unchanged', seq: current.state.seq, events: eventsOutcome };
    this.stored.set(siteId, { bytes, state: { seq, digest } });
    this.listeners.get(siteId)?.(bytes);
    return { kind: 'published', seq, events: eventsOutcome };
  }

  async subscribe(siteId: number, onSnapshot: (bytes: Buffer) => void): Promise<Buffer | null> {
    this.listeners.set(siteId, onSnapshot);
    return this.stored.get(siteId)?.bytes ?? null;
  }

  async publishHeartbeat(siteId: number, bytes: Buffer, ttlMs: number): Promise<void> {
    this.heartbeats.set(siteId, { bytes, expiresAt: this.now() + ttlMs });
    this.heartbeatListeners.get(siteId)?.(bytes);
  }

  async watchHeartbeat(siteId: number, onHeartbeat: HeartbeatHandler): Promise<StoredHeartbeat | null> {
    this.heartbeatListeners.set(siteId, onHeartbeat);
    const stored = this.heartbeats.get(siteId);
    const ttlLeftMs = stored === undefined ? 0 : stored.expiresAt - this.now();
    return stored !== undefined && ttlLeftMs > 0 ? { bytes: stored.bytes, ttlLeftMs } : null;
  }

  isReady(): boolean {
    return true;
  }

  async close(): Promise<void> {
    this.listeners.clear();
    this.heartbeatListeners.clear();
    this.events.close();
  }
}
