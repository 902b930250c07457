import type { Clock, StatusMessage } from '@matomo-live/protocol';
import type { Logger, SnapshotFeed } from '@matomo-live/shared';
import type { GatewayMetrics } from '../metrics/gateway-metrics';
import type { FramedMessage } from '../sessions/broadcast-writer';
import { SiteFreshness } from './site-freshness';

/** A connection that asked for status messages (`?status=1`). */
export interface StatusSubscriber {
  /** Writes one status message (never replaced by a snapshot, nor replacing one). */
  deliverStatus(message: FramedMessage): void;
}

export interface StatusMembership {
  leave(): void;
}

export interface StatusHubOptions {
  siteIds: readonly number[];
  clock: Clock;
  logger: Logger;
  /** Wire encoding of a payload (the broadcast writer's), once per change. Default: identity. */
  encode?: (payload: Buffer) => Buffer;
  /** `site_stale{site}` and `site_stale_reason{site,reason}` follow each site's status. */
  metrics?: GatewayMetrics;
}

interface SiteStatus {
  freshness: SiteFreshness | undefined;
  readonly subscribers: Set<StatusSubscriber>;
}

/**
 * The freshness of each site the gateway serves, for the connections that
 * asked for it: watch() listens for each site's heartbeats on the feed (the
 * sites the gateway subscribes to, nothing else) and keeps a SiteFreshness
 * per site; a change of state or reason is serialized and framed once and
 * written to every opted-in connection of the site. A connection that joins
 * gets the current status at once (its own message: `data_age_ms` as of
 * now), or the first one when it becomes known. Connections that did not ask
 * never join: they get nothing new.
 */
export class StatusHub {
  private readonly sites = new Map<number, SiteStatus>();
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly encode: (payload: Buffer) => Buffer;
  private readonly metrics: GatewayMetrics | undefined;
  /** Each stale site's reason as last set on `site_stale_reason` (to remove that series when it changes). */
  private readonly reasons = new Map<number, string>();
  private closed = false;

  constructor({ siteIds, clock, logger, encode = (p) => p, metrics }: StatusHubOptions) {
    for (const siteId of siteIds) this.sites.set(siteId, { freshness: undefined, subscribers: new Set() });
    this.clock = clock;
    this.logger = logger;
    this.encode = encode;
    this.metrics = metrics;
  }

  /** Starts listening for every site's heartbeats; silence is counted from now. */
  watch(feed: SnapshotFeed): void {
    for (const [siteId, site] of this.sites) {
      if (this.closed || site.freshness !== undefined) continue;
      const freshness = new SiteFreshness({
        siteId,
        clock: this.clock,
        logger: this.logger,
        onChange: (status) => this.changed(site, status),
      });
      site.freshness = freshness;
      let heardLive = false;
      feed
        .watchHeartbeat(siteId, (bytes, ttlLeftMs) => {
          heardLive = true;
          freshness.heard(bytes, ttlLeftMs);
        })
        .then(
          // A heartbeat that overtook the read is newer than the stored one.
          (stored) => {
            if (stored !== null && !heardLive) freshness.heard(stored.bytes, stored.ttlLeftMs);
          },
          (error: Error) => this.logger.warn({ site: siteId, err: error }, 'watching heartbeats failed; the feed retries on reconnect'),
        );
    }
  }

  /** The site's status as of now, or undefined while not known (or not served). */
  status(siteId: number): StatusMessage | undefined {
    return this.sites.get(siteId)?.freshness?.current();
  }

  /** Adds an opted-in connection to a served site; it gets the current status now if known. */
  join(siteId: number, subscriber: StatusSubscriber): StatusMembership {
    const site = this.sites.get(siteId);
    if (site === undefined) throw new Error(`site ${siteId} is not served`);
    // Judged before joining: a change found now goes to the others, the newcomer gets it below.
    const current = site.freshness?.current();
    site.subscribers.add(subscriber);
    if (current !== undefined) subscriber.deliverStatus(this.frame(current));
    return { leave: () => site.subscribers.delete(subscriber) };
  }

  /** Stops every site's timer; nothing is sent after this. */
  close(): void {
    this.closed = true;
    for (const site of this.sites.values()) {
      site.freshness?.close();
      site.subscribers.clear();
    }
  }

  private changed(site: SiteStatus, status: StatusMessage): void {
    this.record(status);
    if (this.closed || site.subscribers.size === 0) return;
    const message = this.frame(status);
    for (const subscriber of site.subscribers) subscriber.deliverStatus(message);
  }

  private frame(status: StatusMessage): FramedMessage {
    const payload = Buffer.from(JSON.stringify(status));
    return { payload, frame: this.encode(payload) };
  }

  private record({ site, state, reason }: StatusMessage): void {
    if (this.metrics === undefined) return;
    const labels = { site: String(site) };
    this.metrics.siteStale.set(labels, state === 'stale' ? 1 : 0);
    const previous = this.reasons.get(site);
    if (previous !== undefined) this.metrics.siteStaleReason.remove({ ...labels, reason: previous });
    this.reasons.delete(site);
    if (reason === null) return;
    this.metrics.siteStaleReason.set({ ...labels, reason }, 1);
    this.reasons.set(site, reason);
  }
}
