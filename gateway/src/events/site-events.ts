import { compareStreamIds, type EventsResetReason } from '@matomo-live/protocol';
import type { EventSource, Logger, StoredEvent } from '@matomo-live/shared';
import type { FramedMessage } from '../sessions/broadcast-writer';
import { LOG_DOCS } from '../log-docs';

/** Something that takes a site's live events (a client's EventLane). */
export interface EventSubscriber {
  /** false when it is gone (closed, or too slow and closed now): it is dropped. */
  push(message: FramedMessage): boolean;
}

/** One stream entry, with its client message built once for every client. */
export interface LogEntry {
  id: string;
  prev: string;
  message: FramedMessage;
}

/** The client message of a stream entry: a visit, or a reset the poller wrote (events lost upstream). */
export function entryPayload(siteId: number, event: StoredEvent): Buffer {
  return Buffer.from(
    event.kind === 'visit'
      ? `{"type":"visit","site":${siteId},"id":"${event.id}","visit":${event.data}}`
      : `{"type":"events_reset","site":${siteId},"id":"${event.id}","reason":${event.data}}`,
  );
}

/** An `events_reset` for one client or all: start again after `id`. */
export function resetPayload(siteId: number, id: string, reason: EventsResetReason): Buffer {
  return Buffer.from(`{"type":"events_reset","site":${siteId},"id":"${id}","reason":"${reason}"}`);
}

export interface SiteEventsOptions {
  siteId: number;
  source: EventSource;
  logger: Logger;
  /** Wire encoding of a payload (the broadcast writer's). */
  encode: (payload: Buffer) => Buffer;
  /** Entries kept in memory for live delivery and quick resumes. Default 1000. */
  logSize?: number;
  /** Entries per stream read. Default 500. */
  pageSize?: number;
  /** The site's chain broke (events lost in Redis): count it. */
  onGap?: () => void;
}

/**
 * One site's events in a gateway: a chained in-memory tail of the stream
 * (`head` is the last id taken), fed by the events channel and repaired from
 * the stream. An event is taken only when its `prev` is the head; anything
 * else makes the site read the stream from its head (a lost message). If the
 * stream no longer continues from the head (trimmed, or lost in a failover)
 * the live clients get `events_reset` (reason `gap`) and the tail starts
 * again where the stream does.
 *
 * Subscribed only while some client wants the site's events (activate /
 * deactivate): a gateway without such clients costs nothing.
 */
export class SiteEvents {
  readonly siteId: number;
  /** The last id taken; undefined while not active. */
  head: string | undefined;
  /** Clients receiving live events. */
  readonly live = new Set<EventSubscriber>();
  /** Clients catching up (replaying); they keep the site active. */
  joining = 0;
  private log: LogEntry[] = [];
  private state: 'idle' | 'activating' | 'active' = 'idle';
  private activation: Promise<void> | undefined;
  private buffered: StoredEvent[][] = [];
  private syncing: Promise<void> | undefined;
  private syncAgain = false;
  /** A head seen ahead of ours by the last check (a lost last message is confirmed by a second look). */
  suspect: string | undefined;
  private readonly source: EventSource;
  private readonly logger: Logger;
  private readonly encode: (payload: Buffer) => Buffer;
  private readonly logSize: number;
  readonly pageSize: number;
  private readonly onGap: () => void;

  constructor({ siteId, source, logger, encode, logSize = 1000, pageSize = 500, onGap = () => undefined }: SiteEventsOptions) {
    this.siteId = siteId;
    this.source = source;
    this.logger = logger;
    this.encode = encode;
    this.logSize = logSize;
    this.pageSize = pageSize;
    this.onGap = onGap;
  }

  get active(): boolean {
    return this.state === 'active';
  }

  /** In use: live or joining clients. */
  get inUse(): boolean {
    return this.live.size > 0 || this.joining > 0;
  }

  /** Subscribes and reads the head (subscribe first: what is published meanwhile arrives on the channel). */
  activate(): Promise<void> {
    if (this.state === 'active') return Promise.resolve();
    this.activation ??= (async () => {
      this.state = 'activating';
      try {
        await this.source.subscribe(this.siteId, (events) => this.onBatch(events));
        this.head = await this.source.lastId(this.siteId);
        this.state = 'active';
        this.logger.debug({ site: this.siteId, head: this.head }, 'visit events subscribed');
      } catch (error) {
        this.state = 'idle';
        this.buffered = [];
        await this.source.unsubscribe(this.siteId).catch(() => undefined);
        throw error;
      } finally {
        this.activation = undefined;
      }
      this.drainBuffered();
    })();
    return this.activation;
  }

  /** Unsubscribes and forgets the tail (nobody wants the site's events any more). */
  async deactivate(): Promise<void> {
    if (this.state !== 'active' || this.inUse) return;
    this.state = 'idle';
    this.head = undefined;
    this.log = [];
    this.buffered = [];
    this.suspect = undefined;
    await this.source.unsubscribe(this.siteId);
    this.logger.debug({ site: this.siteId }, 'visit events unsubscribed');
  }

  /**
   * The entries after `id` when this site can tell them from memory: [] when
   * `id` is the head, the log's tail when the log holds the entry after it,
   * else undefined (older than the log, or not in the chain).
   */
  entriesAfter(id: string): LogEntry[] | undefined {
    if (id === this.head) return [];
    const index = this.log.findIndex((entry) => entry.prev === id);
    return index < 0 ? undefined : this.log.slice(index);
  }

  /** The client message of an entry read from the stream (replays). */
  message(event: StoredEvent): FramedMessage {
    const payload = entryPayload(this.siteId, event);
    return { payload, frame: this.encode(payload) };
  }

  resetMessage(id: string, reason: EventsResetReason): FramedMessage {
    const payload = resetPayload(this.siteId, id, reason);
    return { payload, frame: this.encode(payload) };
  }

  /** Takes a published batch: in order from the head, or a repair from the stream when something is missing. */
  onBatch(events: StoredEvent[]): void {
    if (this.state === 'idle') return;
    if (this.state === 'activating' || this.syncing !== undefined) {
      this.buffered.push(events);
      return;
    }
    for (const event of events) {
      if (compareStreamIds(event.id, this.head!) <= 0) continue;
      if (event.prev !== this.head) {
        this.logger.debug({ site: this.siteId, head: this.head, prev: event.prev }, 'events message out of chain; reading the stream');
        void this.sync();
        return;
      }
      this.append(event);
    }
  }

  /**
   * Reads the stream from the head to its end (single-flight; asked again
   * while running, it runs once more). Resolves when done; a Redis error is
   * logged and left to the next check or resync.
   */
  sync(): Promise<void> {
    if (this.state !== 'active') return this.activation ?? Promise.resolve();
    if (this.syncing !== undefined) {
      this.syncAgain = true;
      return this.syncing;
    }
    this.syncing = (async () => {
      try {
        do {
          this.syncAgain = false;
          await this.readToEnd();
        } while (this.syncAgain && this.state === 'active');
      } catch (error) {
        this.logger.warn({ site: this.siteId, err: error }, 'could not read the visit events stream; retrying at the next check');
      } finally {
        this.syncing = undefined;
      }
      this.drainBuffered();
    })();
    return this.syncing;
  }

  private async readToEnd(): Promise<void> {
    for (;;) {
      if (this.state !== 'active') return;
      const page = await this.source.range(this.siteId, this.head!, this.pageSize);
      if (page.length === 0) return;
      if (page[0]!.prev !== this.head) this.discontinuity(page[0]!.prev);
      for (const event of page) if (event.prev === this.head) this.append(event);
      if (page.length < this.pageSize) return;
    }
  }

  /** The stream does not continue from our head: live clients start again where it does. */
  private discontinuity(from: string): void {
    this.logger.warn(
      { site: this.siteId, head: this.head, streamContinuesFrom: from, docs: LOG_DOCS.visitEvents },
      'visit events lost in Redis: live clients get events_reset',
    );
    this.onGap();
    this.head = from;
    this.log = [];
    this.broadcast(this.resetMessage(from, 'gap'));
  }

  private append(event: StoredEvent): void {
    const entry: LogEntry = { id: event.id, prev: event.prev, message: this.message(event) };
    this.log.push(entry);
    if (this.log.length > this.logSize) this.log.splice(0, this.log.length - this.logSize);
    this.head = event.id;
    this.broadcast(entry.message);
  }

  private broadcast(message: FramedMessage): void {
    for (const subscriber of this.live) if (!subscriber.push(message)) this.live.delete(subscriber);
  }

  private drainBuffered(): void {
    const batches = this.buffered;
    this.buffered = [];
    for (const batch of batches) this.onBatch(batch);
  }
}
