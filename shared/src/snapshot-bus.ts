/**
 * The transport between poller and gateways, as the two sides see it. Redis
 * implements it in production (poller/src/redis-publisher.ts,
 * gateway/src/redis-feed.ts); InMemorySnapshotBus implements both sides in one
 * process for the single-process mode and for unit tests of code above it.
 */

/** What is stored for a site: the seq and content digest of its snapshot. */
export interface StoredState {
  seq: number;
  digest: string;
}

export type PublishOutcome =
  /** Stored and published; `receivers`: subscribers that got it where the transport tells (Redis: on the publishing node). */
  | { kind: 'published'; seq: number; receivers?: number }
  /** The stored snapshot has this digest already: nothing stored or published. */
  | { kind: 'unchanged'; seq: number }
  /** The stored seq is ≥ the offered one: retry with a seq above storedSeq. */
  | { kind: 'seq-behind'; storedSeq: number }
  /** Another poller holds the site's lease (fencing). */
  | { kind: 'not-leader' };

export interface PublishRequest {
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
}

/** The poller's side. */
export interface SnapshotPublisher {
  /** The stored state of a site, or null when nothing is stored. */
  readState(siteId: number): Promise<StoredState | null>;
  /**
   * Atomically: unless a snapshot is stored with the same digest (and a seq
   * of at least `knownSeq`), store `bytes`, record digest and seq, and publish
   * `bytes` once on the site's channel.
   */
  publish(siteId: number, request: PublishRequest): Promise<PublishOutcome>;
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

/** Both sides in one process: the single-process mode's replacement for Redis. */
export class InMemorySnapshotBus implements SnapshotPublisher, SnapshotFeed {
  private readonly stored = new Map<number, { bytes: Buffer; state: StoredState }>();
  private readonly listeners = new Map<number, (bytes: Buffer) => void>();

  async readState(siteId: number): Promise<StoredState | null> {
    return this.stored.get(siteId)?.state ?? null;
  }

  async publish(siteId: number, { digest, seq, bytes, knownSeq = 0 }: PublishRequest): Promise<PublishOutcome> {
    const current = this.stored.get(siteId);
    if (current?.state.digest === digest && current.state.seq >= knownSeq) return { kind: 'unchanged', seq: current.state.seq };
    if (current && current.state.seq >= seq) return { kind: 'seq-behind', storedSeq: current.state.seq };
    this.stored.set(siteId, { bytes, state: { seq, digest } });
    this.listeners.get(siteId)?.(bytes);
    return { kind: 'published', seq };
  }

  async subscribe(siteId: number, onSnapshot: (bytes: Buffer) => void): Promise<Buffer | null> {
    this.listeners.set(siteId, onSnapshot);
    return this.stored.get(siteId)?.bytes ?? null;
  }

  isReady(): boolean {
    return true;
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }
}
