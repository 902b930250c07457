import { compareStreamIds, type EventsRequest, type EventsResetReason } from '@matomo-live/protocol';
import { resubscribeRetryDelay, type EventSource, type Logger } from '@matomo-live/shared';
import type { EventLane } from './event-lane';
import type { EventMetrics } from '../metrics/event-metrics';
import { SiteEvents } from './site-events';

export interface EventHubOptions {
  siteIds: readonly number[];
  source: EventSource;
  logger: Logger;
  /** Wire encoding of a payload (the broadcast writer's). */
  encode: (payload: Buffer) => Buffer;
  metrics: EventMetrics;
  /** How often the stored last event id of each active site is compared with the gateway's, ms; 0 = never. Default 2000. */
  checkIntervalMs?: number;
  /** How long a site stays subscribed after its last events client left, ms. Default 30000. */
  lingerMs?: number;
  /** Replays hand over the next event only below this many unsent bytes. Default 64 KiB. */
  replayBacklogBytes?: number;
}

/** Catch-up rounds that may wait for this gateway to read further before a `since` ahead of it counts as unknown. */
const AHEAD_ROUNDS = 3;

/**
 * Visit events for a gateway's clients, transport-free (the EventSource is
 * Redis or memory). A client that asks for events gets, in order:
 *
 * 1. without `since`: `events_reset` (reason `start`) naming where it starts
 *    (with `rewind=N`: where the N latest retained events start, then those);
 * 2. with `since`: every event after it — from this gateway's memory when it
 *    holds them, else read from the stream page by page, paced by the
 *    client's socket — or one `events_reset` (reason `since-unknown`) when the
 *    stream does not continue from `since` (trimmed, lost, unknown);
 * 3. then live events.
 *
 * The switch from replay to live is race-free because it is synchronous:
 * once a replay reaches what the site holds in memory, the rest of the
 * memory is written and the client joins the live set in one step, so an
 * event arriving meanwhile is either in that memory (replayed) or delivered
 * live, never both nor neither.
 */
export class EventHub {
  private readonly sites = new Map<number, SiteEvents>();
  private readonly source: EventSource;
  private readonly logger: Logger;
  private readonly metrics: EventMetrics;
  private readonly lingerMs: number;
  private readonly replayBacklogBytes: number;
  private readonly lingerTimers = new Map<number, NodeJS.Timeout>();
  private checkTimer: NodeJS.Timeout | undefined;
  private checking = false;
  private closed = false;

  constructor({
    siteIds,
    source,
    logger,
    encode,
    metrics,
    checkIntervalMs = 2000,
    lingerMs = 30_000,
    replayBacklogBytes = 64 * 1024,
  }: EventHubOptions) {
    this.source = source;
    this.logger = logger;
    this.metrics = metrics;
    this.lingerMs = lingerMs;
    this.replayBacklogBytes = replayBacklogBytes;
    for (const siteId of siteIds) {
      this.sites.set(siteId, new SiteEvents({ siteId, source, logger, encode, onGap: () => metrics.gaps.inc({ site: siteId }) }));
    }
    source.onResync(() => {
      for (const site of this.sites.values()) if (site.active) void site.sync();
    });
    if (checkIntervalMs > 0) {
      this.checkTimer = setInterval(() => void this.checkHeads(), checkIntervalMs);
      this.checkTimer.unref();
    }
    metrics.clientsOf = () => {
      let n = 0;
      for (const site of this.sites.values()) n += site.live.size + site.joining;
      return n;
    };
  }

  /**
   * Serves a client's events on its lane until the lane closes. Resolves
   * once the client is live (or gone); never rejects.
   */
  async serve(siteId: number, request: EventsRequest, lane: EventLane): Promise<void> {
    const site = this.sites.get(siteId);
    if (site === undefined || this.closed) return;
    site.joining += 1;
    this.cancelLinger(siteId);
    lane.onClose(() => {
      site.live.delete(lane);
      this.lingerIfUnused(site);
    });
    try {
      if (!(await this.activate(site, lane))) return;
      let position: string;
      if (request.since !== undefined) {
        position = request.since;
      } else {
        const rewound = request.rewind === undefined ? [] : await this.source.latest(siteId, request.rewind);
        if (lane.closed) return;
        if (rewound.length === 0) return this.goLive(site, lane, 'start');
        position = rewound[0]!.prev;
        this.metrics.resets.inc({ reason: 'start' });
        if (!lane.push(site.resetMessage(position, 'start'))) return;
        for (const event of rewound) {
          await lane.room(this.replayBacklogBytes);
          if (!lane.push(site.message(event))) return;
          position = event.id;
        }
      }
      await this.catchUp(site, lane, position, request.since !== undefined);
    } catch (error) {
      // Redis failed mid-replay: the client cannot be served exactly; it reconnects and resumes with `since`.
      this.logger.warn({ site: siteId, err: error }, 'visit events replay failed; closing the client so it resumes');
      lane.fail();
    } finally {
      site.joining -= 1;
      this.lingerIfUnused(site);
    }
  }

  /** Stops timers and unsubscribes everything (the source stays the caller's). */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.checkTimer);
    for (const timer of this.lingerTimers.values()) clearTimeout(timer);
    this.lingerTimers.clear();
    await Promise.all([...this.sites.values()].map((site) => this.source.unsubscribe(site.siteId).catch(() => undefined)));
  }

  /** Subscribes the site's events, retrying while Redis fails; false when the client left meanwhile. */
  private async activate(site: SiteEvents, lane: EventLane): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      if (lane.closed || this.closed) return false;
      try {
        await site.activate();
        return !lane.closed;
      } catch (error) {
        const delay = resubscribeRetryDelay(attempt);
        if (attempt === 0) this.logger.warn({ site: site.siteId, err: error }, 'cannot subscribe to visit events yet; retrying');
        await new Promise((resolve) => setTimeout(resolve, delay).unref());
      }
    }
  }

  /**
   * Replays from `position` until the site's memory takes over. `resuming`:
   * the client named `position` itself (a `since`), which must be in the
   * stream's chain; a position from a rewind is.
   */
  private async catchUp(site: SiteEvents, lane: EventLane, position: string, resuming: boolean): Promise<void> {
    let replayed = 0;
    for (let round = 0; ; round++) {
      if (lane.closed) return;
      const tail = site.entriesAfter(position);
      if (tail !== undefined) {
        // Synchronous from here to live: nothing can arrive in between.
        for (const entry of tail) if (!lane.push(entry.message)) return;
        replayed += tail.length;
        if (resuming) this.metrics.replays.inc({ outcome: 'resumed' });
        this.metrics.replayedEvents.inc(replayed);
        site.live.add(lane);
        return;
      }
      if (compareStreamIds(position, site.head!) > 0 && round < AHEAD_ROUNDS) {
        // The client saw an event this gateway has not read yet (it came from another gateway): read on.
        await site.sync();
        continue;
      }
      const page = await this.source.range(site.siteId, position, site.pageSize);
      if (lane.closed) return;
      if (page.length === 0) {
        const last = await this.source.lastId(site.siteId);
        if (last === position && round < AHEAD_ROUNDS) {
          await site.sync();
          continue;
        }
        return this.goLive(site, lane, 'since-unknown');
      }
      if (page[0]!.prev !== position) return this.goLive(site, lane, 'since-unknown');
      for (const event of page) {
        await lane.room(this.replayBacklogBytes);
        if (!lane.push(site.message(event))) return;
        position = event.id;
        replayed += 1;
      }
    }
  }

  /** `events_reset` naming the site's head, then live events; synchronous, so nothing slips in between. */
  private goLive(site: SiteEvents, lane: EventLane, reason: EventsResetReason): void {
    if (reason !== 'start') this.metrics.replays.inc({ outcome: 'reset' });
    this.metrics.resets.inc({ reason });
    if (!lane.push(site.resetMessage(site.head!, reason))) return;
    site.live.add(lane);
  }

  private cancelLinger(siteId: number): void {
    clearTimeout(this.lingerTimers.get(siteId));
    this.lingerTimers.delete(siteId);
  }

  private lingerIfUnused(site: SiteEvents): void {
    if (site.inUse || !site.active || this.closed || this.lingerTimers.has(site.siteId)) return;
    const timer = setTimeout(() => {
      this.lingerTimers.delete(site.siteId);
      site.deactivate().catch((error: Error) => this.logger.debug({ site: site.siteId, err: error }, 'unsubscribing visit events failed'));
    }, this.lingerMs);
    timer.unref();
    this.lingerTimers.set(site.siteId, timer);
  }

  /**
   * The backstop for a lost last message (no later one reveals the gap): the
   * stored last id of each active site against the gateway's head; ahead on
   * two checks in a row ⇒ read the stream.
   */
  private async checkHeads(): Promise<void> {
    if (this.checking || this.closed) return;
    this.checking = true;
    try {
      await Promise.all(
        [...this.sites.values()]
          .filter((site) => site.active)
          .map(async (site) => {
            let last: string;
            try {
              last = await this.source.lastId(site.siteId);
            } catch {
              return;
            }
            if (!site.active || site.head === undefined || compareStreamIds(last, site.head) <= 0) {
              site.suspect = undefined;
              return;
            }
            if (site.suspect === undefined) {
              site.suspect = last;
              return;
            }
            site.suspect = undefined;
            this.metrics.heals.inc({ site: site.siteId });
            this.logger.warn({ site: site.siteId, head: site.head, stored: last }, 'a visit events message never arrived; read the stream');
            await site.sync();
          }),
      );
    } finally {
      this.checking = false;
    }
  }
}
