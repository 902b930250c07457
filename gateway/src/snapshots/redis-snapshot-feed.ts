import {
  MAX_SEQ,
  redisNames,
  resubscribeRetryDelay,
  siteIdOfChannel,
  siteIdOfHeartbeatChannel,
  snapshotSeq,
  type FeedStats,
  type HeartbeatHandler,
  type Logger,
  type RedisChannelSubscriber,
  type RedisClient,
  type SnapshotFeed,
  type StoredHeartbeat,
} from '@matomo-live/shared';
import { LOG_DOCS } from '../log-docs';

export interface RedisSnapshotFeedOptions {
  /** The pub/sub side (SUBSCRIBE, or SSUBSCRIBE in Cluster mode). Owned by the caller. */
  subscriber: RedisChannelSubscriber;
  /** Connection for GET of the cached snapshots and the seq check. Owned by the caller. */
  command: RedisClient;
  /** Key/channel prefix. Default "matomo-live:". */
  prefix?: string;
  logger: Logger;
  /** How often each site's stored seq is compared with the last delivered one, ms; 0 = never. Default 2000 (REDIS_SEQ_CHECK_INTERVAL). */
  seqCheckIntervalMs?: number;
}

interface SiteFeed {
  handler: (bytes: Buffer) => void;
  /** Subscription confirmed since the last disconnect. */
  confirmed: boolean;
  /** seq of the last bytes handed to the handler (message or re-read). */
  lastSeq: number | undefined;
  /** A stored seq seen ahead of lastSeq once; a second look decides whether a message was lost or just in flight. */
  suspectSeq: number | undefined;
  /** Gaps healed since the last message arrived on the channel: two in a row mean the subscription is dead. */
  healsWithoutMessage: number;
}

/** A site whose heartbeats are watched (watchHeartbeat). */
interface HeartbeatWatch {
  handler: HeartbeatHandler;
}

/**
 * SnapshotFeed over Redis pub/sub, any mode: one (S)SUBSCRIBE per site per
 * process. Pub/sub is at most once, so two repairs run beside it:
 *
 * - after every reconnect (or, in a Cluster, every sharded-subscriber reset)
 *   it subscribes again and re-reads each cached key, so a change published
 *   while the connection was down is still delivered;
 * - every `seqCheckIntervalMs` it reads each site's stored seq (one HGET per
 *   site) and, when Redis is ahead of the last seq delivered on two looks in a
 *   row, re-reads the snapshot (a message lost without any reconnect: a
 *   failover, a subscriber dropped by Redis's output-buffer limit). A site
 *   healed twice with no message in between is re-subscribed.
 *
 * Heartbeats (watchHeartbeat) ride on the same subscriber: their channel is
 * subscribed again and their key re-read and delivered after every reconnect
 * too. They carry no seq, so a re-read is always delivered (a repeat only
 * moves when it was last heard). Readiness does not wait for them.
 *
 * Re-reads deliver only seqs above the last delivered one: a stored seq
 * below it means Redis lost writes in a failover, and republishing is the
 * poller's job. Consumers drop repeats by seq. Ready only while the
 * subscriber is connected and every site's subscription is confirmed.
 */
export class RedisSnapshotFeed implements SnapshotFeed {
  private readonly subscriber: RedisChannelSubscriber;
  private readonly command: RedisClient;
  private readonly prefix: string;
  private readonly logger: Logger;
  private readonly seqCheckIntervalMs: number;
  private readonly sites = new Map<number, SiteFeed>();
  private readonly heartbeats = new Map<number, HeartbeatWatch>();
  private readonly counters: FeedStats = { gapsHealed: {}, resubscribes: 0, resyncs: 0, seqChecks: 0, seqCheckErrors: 0 };
  private closed = false;
  private resyncing: Promise<void> | undefined;
  private resyncAgain = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryAttempts = 0;
  private checkTimer: NodeJS.Timeout | undefined;
  private checking = false;

  constructor({ subscriber, command, prefix = 'matomo-live:', logger, seqCheckIntervalMs = 2000 }: RedisSnapshotFeedOptions) {
    this.subscriber = subscriber;
    this.command = command;
    this.prefix = prefix;
    this.logger = logger;
    this.seqCheckIntervalMs = seqCheckIntervalMs;
    subscriber.onMessage(this.onMessage);
    subscriber.onResync(() => this.resyncAll());
    subscriber.onDown(this.onDown);
    if (seqCheckIntervalMs > 0) {
      this.checkTimer = setInterval(() => void this.checkSeqs(), seqCheckIntervalMs);
      this.checkTimer.unref();
    }
  }

  async subscribe(siteId: number, onSnapshot: (bytes: Buffer) => void): Promise<Buffer | null> {
    const site: SiteFeed = { handler: onSnapshot, confirmed: false, lastSeq: undefined, suspectSeq: undefined, healsWithoutMessage: 0 };
    this.sites.set(siteId, site);
    let cached: Buffer | null;
    try {
      cached = await this.sync(siteId);
    } catch (error) {
      // No reconnect event may follow (a Cluster stays "ready"): try again by ourselves.
      this.scheduleRetry();
      throw error;
    }
    // A message that overtook the GET is newer: then the caller must not deliver the older cached bytes.
    return this.takeIfNewer(site, cached) ? cached : null;
  }

  async watchHeartbeat(siteId: number, onHeartbeat: HeartbeatHandler): Promise<StoredHeartbeat | null> {
    this.heartbeats.set(siteId, { handler: onHeartbeat });
    try {
      return await this.syncHeartbeat(siteId);
    } catch (error) {
      this.scheduleRetry();
      throw error;
    }
  }

  isReady(): boolean {
    if (this.closed || !this.subscriber.isConnected() || this.sites.size === 0) return false;
    for (const site of this.sites.values()) if (!site.confirmed) return false;
    return true;
  }

  stats(): FeedStats {
    return { ...this.counters, gapsHealed: { ...this.counters.gapsHealed } };
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.checkTimer);
    clearTimeout(this.retryTimer);
    this.subscriber.close();
    this.sites.clear();
    this.heartbeats.clear();
  }

  /** Subscribe, then read the cache: anything published in between arrives on the channel. Returns the cached bytes. */
  private async sync(siteId: number): Promise<Buffer | null> {
    const names = redisNames(this.prefix, siteId);
    await this.subscriber.subscribe(names.snapshotChannel);
    const site = this.sites.get(siteId);
    if (site === undefined) return null;
    site.confirmed = true;
    return this.command.getBuffer(names.snapshotKey);
  }

  /** The same for a heartbeat: subscribe, then read the stored one. */
  private async syncHeartbeat(siteId: number): Promise<StoredHeartbeat | null> {
    const names = redisNames(this.prefix, siteId);
    await this.subscriber.subscribe(names.heartbeatChannel);
    if (!this.heartbeats.has(siteId)) return null;
    // Its age comes from the TTL left (the poller stores it for the stale threshold).
    const [bytes, ttlLeftMs] = await Promise.all([this.command.getBuffer(names.heartbeatKey), this.command.pttl(names.heartbeatKey)]);
    return bytes === null || ttlLeftMs <= 0 ? null : { bytes, ttlLeftMs };
  }

  private readonly onMessage = (channel: string, message: Buffer): void => {
    const siteId = siteIdOfChannel(this.prefix, channel);
    const site = siteId === undefined ? undefined : this.sites.get(siteId);
    if (site === undefined) {
      const watch = this.heartbeats.get(siteIdOfHeartbeatChannel(this.prefix, channel) ?? Number.NaN);
      if (watch !== undefined) return watch.handler(message);
      this.logger.debug({ channel }, 'message on an unexpected channel ignored');
      return;
    }
    site.lastSeq = snapshotSeq(message) ?? site.lastSeq;
    site.healsWithoutMessage = 0;
    site.handler(message);
  };

  /** Records re-read bytes as the last delivered when their seq is above it; true when they were (the caller delivers them). */
  private takeIfNewer(site: SiteFeed, bytes: Buffer | null): boolean {
    if (bytes === null) return false;
    const seq = snapshotSeq(bytes);
    // A delivered seq past MAX_SEQ was poisoned (no poller publishes one): it must not hold back the real ones.
    const trusted = site.lastSeq !== undefined && site.lastSeq <= MAX_SEQ;
    if (seq === undefined || (trusted && seq <= site.lastSeq!)) return false;
    site.lastSeq = seq;
    return true;
  }

  /** Hands re-read bytes to the site's handler if they are newer than what it has; true when they were. */
  private deliverIfNewer(siteId: number, bytes: Buffer | null): boolean {
    const site = this.sites.get(siteId);
    if (site === undefined || !this.takeIfNewer(site, bytes)) return false;
    site.handler(bytes as Buffer);
    return true;
  }

  /** After a reconnect or failover: subscribe and re-read every site; one run at a time, repeated if asked again meanwhile. */
  private resyncAll(): void {
    if (this.closed) return;
    if (this.resyncing !== undefined) {
      this.resyncAgain = true;
      return;
    }
    this.resyncing = (async () => {
      let failed: boolean;
      do {
        this.resyncAgain = false;
        this.counters.resyncs++;
        const failures: { site: number; err: unknown }[] = [];
        await Promise.all([
          ...[...this.sites.keys()].map(async (siteId) => {
            try {
              this.deliverIfNewer(siteId, await this.sync(siteId));
            } catch (error) {
              failures.push({ site: siteId, err: error });
            }
          }),
          ...[...this.heartbeats.keys()].map(async (siteId) => {
            try {
              const stored = await this.syncHeartbeat(siteId);
              if (stored !== null) this.heartbeats.get(siteId)?.handler(stored.bytes, stored.ttlLeftMs);
            } catch (error) {
              failures.push({ site: siteId, err: error });
            }
          }),
        ]);
        failed = failures.length > 0;
        const failedSites = [...new Set(failures.map((f) => f.site))];
        // One warning per outage (the first failed round), not one per site every retry: the info line below ends it.
        if (failed && this.retryAttempts === 0)
          this.logger.warn({ sites: failedSites, err: failures[0]!.err }, 'resubscribe or re-read failed; retrying until Redis answers');
        else if (failed) this.logger.debug({ sites: failedSites, attempt: this.retryAttempts }, 'resubscribe or re-read failed again');
      } while (this.resyncAgain && !this.closed);
      if (failed) this.scheduleRetry();
      else {
        this.retryAttempts = 0;
        // A retry still pending from the outage would only resync (and say so) again.
        clearTimeout(this.retryTimer);
        this.retryTimer = undefined;
        this.logger.info({ sites: [...this.sites.keys()] }, 'subscribed to snapshots');
      }
    })().finally(() => (this.resyncing = undefined));
  }

  private scheduleRetry(): void {
    if (this.closed || this.retryTimer !== undefined) return;
    const delay = resubscribeRetryDelay(this.retryAttempts++);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.resyncAll();
    }, delay);
    this.retryTimer.unref();
  }

  /**
   * One HGET per site, in parallel (in a Cluster each goes to its own slot's
   * master); skipped while the last round runs. It runs during a resync too:
   * it is the backstop if a resync is slow or stuck.
   */
  private async checkSeqs(): Promise<void> {
    if (this.closed || this.checking) return;
    this.checking = true;
    try {
      await Promise.all([...this.sites.keys()].map((siteId) => this.checkSite(siteId)));
    } finally {
      this.checking = false;
    }
  }

  private async checkSite(siteId: number): Promise<void> {
    const site = this.sites.get(siteId);
    if (site === undefined || !site.confirmed) return;
    let stored: number;
    this.counters.seqChecks++;
    try {
      stored = Number((await this.command.hget(redisNames(this.prefix, siteId).stateKey, 'seq')) ?? NaN);
    } catch (error) {
      this.counters.seqCheckErrors++;
      this.logger.debug({ site: siteId, err: error }, 'seq check failed');
      return;
    }
    // Never "!=": a stored seq below the delivered one is a rolled-back Redis, which the poller republishes over.
    if (!Number.isSafeInteger(stored) || stored > MAX_SEQ || (stored <= (site.lastSeq ?? 0) && (site.lastSeq ?? 0) <= MAX_SEQ)) {
      site.suspectSeq = undefined;
      return;
    }
    if (site.suspectSeq === undefined) {
      // The message may be in flight on the other connection: look again shortly before calling it lost.
      site.suspectSeq = stored;
      setTimeout(() => void this.checkSite(siteId), Math.min(500, this.seqCheckIntervalMs)).unref();
      return;
    }
    site.suspectSeq = undefined;
    await this.heal(siteId, site, stored);
  }

  private async heal(siteId: number, site: SiteFeed, stored: number): Promise<void> {
    const names = redisNames(this.prefix, siteId);
    let bytes: Buffer | null;
    try {
      bytes = await this.command.getBuffer(names.snapshotKey);
    } catch (error) {
      this.counters.seqCheckErrors++;
      this.logger.debug({ site: siteId, err: error }, 'gap re-read failed');
      return;
    }
    const delivered = site.lastSeq;
    if (!this.deliverIfNewer(siteId, bytes)) return;
    this.counters.gapsHealed[siteId] = (this.counters.gapsHealed[siteId] ?? 0) + 1;
    this.logger.warn({ site: siteId, delivered, stored, docs: LOG_DOCS.noSilentGaps }, 'a published snapshot never arrived; re-read it');
    if (++site.healsWithoutMessage < 2) return;
    site.healsWithoutMessage = 0;
    this.counters.resubscribes++;
    this.logger.warn({ site: siteId, channel: names.snapshotChannel }, 'gaps keep appearing on this subscription; subscribing again');
    // The heartbeat channel shares the tag, so the shard: whatever dropped one subscription dropped the other.
    const channels = this.heartbeats.has(siteId) ? [names.snapshotChannel, names.heartbeatChannel] : [names.snapshotChannel];
    await Promise.all(channels.map((channel) => this.subscriber.resubscribe(channel))).catch((error: Error) =>
      this.logger.warn({ site: siteId, err: error }, 'subscribing again failed; the next check retries'),
    );
  }

  private readonly onDown = (): void => {
    let wasConfirmed = false;
    for (const site of this.sites.values()) {
      wasConfirmed ||= site.confirmed;
      site.confirmed = false;
    }
    if (wasConfirmed) this.logger.warn('Redis subscriber connection lost; reconnecting');
  };
}
