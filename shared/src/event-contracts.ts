/**
 * Visit events between poller and gateways, as both sides see them. The
 * poller appends events with its snapshot publish (one atomic step, see
 * SnapshotPublisher.publish and PublishRequest.events); gateways read them
 * through an EventSource. Redis implements both (a per-site stream and a
 * channel: poller/src/redis-publisher.ts, gateway/src/events/redis-event-source.ts);
 * InMemoryEventStreams does in one process (the single-process mode).
 *
 * Every entry names the entry before it (`prev`): a reader that saw id X and
 * next sees an entry whose prev is not X knows it missed something, whether a
 * pub/sub message was lost, the stream was trimmed past X, or a failover
 * dropped X. That one rule covers live delivery, replay and resets.
 */
import { compareStreamIds, parseStreamId, STREAM_START } from '@matomo-live/protocol';

export type StoredEventKind = 'visit' | 'reset';

/** One entry of a site's event stream. */
export interface StoredEvent {
  /** Stream id, "<ms>-<n>", growing. */
  id: string;
  /** The id of the entry written before it (STREAM_START for the first ever). */
  prev: string;
  kind: StoredEventKind;
  /** JSON text: the visit (kind `visit`) or the reset reason as a JSON string (kind `reset`). */
  data: string;
}

/** An event to append: the store assigns its id and prev. */
export interface NewEvent {
  kind: StoredEventKind;
  data: string;
}

/**
 * The incremental fetch's cursor as stored with the events, so a restarted
 * or newly elected poller continues exactly where the last write left off.
 */
export interface StoredCursor {
  /** minTimestamp of the next query (Unix s): visits whose last action is strictly later. */
  after: number;
  /** Rows of the second after `after` already taken (paging inside one crowded second); usually 0. */
  offset: number;
  /** Bumped by every write: the poller holds the version it last read or wrote. */
  version: number;
  /** Recent visits already turned into events: idVisit → "<actions>:<last action s>". */
  seen: Array<[number, string]>;
  /**
   * Visits whose last action is before this second (Unix s) may have been announced already: the cursor was
   * missing (Redis came back empty) and restarted from the retention. Their events are marked history.
   */
  historyUntil?: number;
}

/** The cursor's change written with a tick's events. */
export interface CursorWrite {
  /** The version the poller holds; any other stored version refuses the whole write (`cursor-stale`). */
  expectedVersion: number;
  after: number;
  offset: number;
  /** Visits to remember (added or updated). */
  set: Array<[number, string]>;
  /** Visits to forget (too old to matter). */
  forget: number[];
  /** See StoredCursor.historyUntil; absent once the cursor is past it. */
  historyUntil?: number;
}

/** What a publish appends to the site's events. */
export interface EventsWrite {
  /** In order; may be empty (then only the cursor moves). */
  entries: NewEvent[];
  cursor: CursorWrite;
  /** Events younger than this (by stream id time) are kept, ms. */
  retentionMs: number;
  /** Hard cap of entries kept (approximate in Redis: whole 100-entry nodes). */
  maxLen: number;
}

/** The gateway's side of the events. */
export interface EventSource {
  /**
   * Starts handing the site's newly appended events to `onEvents` (a batch
   * per publish, in stream order) and resolves once subscribed. Delivery is
   * at most once: callers check `prev` and fill gaps with range().
   */
  subscribe(siteId: number, onEvents: (events: StoredEvent[]) => void): Promise<void>;
  /** Stops delivering the site's events. */
  unsubscribe(siteId: number): Promise<void>;
  /** Entries after `afterId` (exclusive), oldest first, at most `count`. */
  range(siteId: number, afterId: string, count: number): Promise<StoredEvent[]>;
  /** The latest `count` entries, oldest first. */
  latest(siteId: number, count: number): Promise<StoredEvent[]>;
  /** Id of the last entry ever appended (it may be trimmed), STREAM_START when none. */
  lastId(siteId: number): Promise<string>;
  /** Runs `listener` after a reconnect or failover, when messages may have been lost. */
  onResync(listener: () => void): void;
}

interface SiteStream {
  entries: StoredEvent[];
  lastId: string;
  cursor: StoredCursor | null;
}

/**
 * Events in memory for the single-process mode: the same rules as the Redis
 * stream (ids, prev, retention, cursor versions), nothing persisted.
 */
export class InMemoryEventStreams implements EventSource {
  private readonly sites = new Map<number, SiteStream>();
  private readonly listeners = new Map<number, (events: StoredEvent[]) => void>();
  private lastMs = 0;
  private lastSeq = 0;

  constructor(private readonly now: () => number = Date.now) {}

  /** The stored cursor of a site, or null. */
  readCursor(siteId: number): StoredCursor | null {
    const cursor = this.sites.get(siteId)?.cursor;
    return cursor ? { ...cursor, seen: [...cursor.seen] } : null;
  }

  /** The cursor version a write must expect. */
  cursorVersion(siteId: number): number {
    return this.sites.get(siteId)?.cursor?.version ?? 0;
  }

  /** Appends a publish's events and moves the cursor (the caller checked the version); returns the new ids. */
  append(siteId: number, write: EventsWrite): string[] {
    const site = this.site(siteId);
    const ids: string[] = [];
    const appended: StoredEvent[] = [];
    for (const entry of write.entries) {
      const id = this.nextId();
      const event: StoredEvent = { id, prev: site.lastId, kind: entry.kind, data: entry.data };
      site.entries.push(event);
      appended.push(event);
      site.lastId = id;
      ids.push(id);
    }
    if (appended.length > 0) {
      // Ids come from nextId(): always valid.
      const msOf = (id: string) => parseStreamId(id)!.ms;
      const newestMs = msOf(site.lastId);
      site.entries = site.entries.filter((e) => msOf(e.id) >= newestMs - write.retentionMs);
      if (site.entries.length > write.maxLen) site.entries = site.entries.slice(-write.maxLen);
    }
    const seen = new Map(site.cursor?.seen ?? []);
    for (const [id, value] of write.cursor.set) seen.set(id, value);
    for (const id of write.cursor.forget) seen.delete(id);
    site.cursor = {
      after: write.cursor.after,
      offset: write.cursor.offset,
      version: write.cursor.expectedVersion + 1,
      seen: [...seen],
      ...(write.cursor.historyUntil !== undefined ? { historyUntil: write.cursor.historyUntil } : {}),
    };
    if (appended.length > 0) this.listeners.get(siteId)?.(appended);
    return ids;
  }

  async subscribe(siteId: number, onEvents: (events: StoredEvent[]) => void): Promise<void> {
    this.listeners.set(siteId, onEvents);
  }

  async unsubscribe(siteId: number): Promise<void> {
    this.listeners.delete(siteId);
  }

  async range(siteId: number, afterId: string, count: number): Promise<StoredEvent[]> {
    const entries = this.sites.get(siteId)?.entries ?? [];
    return entries.filter((e) => compareStreamIds(e.id, afterId) > 0).slice(0, count);
  }

  async latest(siteId: number, count: number): Promise<StoredEvent[]> {
    return (this.sites.get(siteId)?.entries ?? []).slice(-count);
  }

  async lastId(siteId: number): Promise<string> {
    return this.sites.get(siteId)?.lastId ?? STREAM_START;
  }

  onResync(): void {
    // Nothing is ever lost in memory.
  }

  close(): void {
    this.listeners.clear();
  }

  private site(siteId: number): SiteStream {
    let site = this.sites.get(siteId);
    if (!site) {
      site = { entries: [], lastId: STREAM_START, cursor: null };
      this.sites.set(siteId, site);
    }
    return site;
  }

  /** Redis's rule: the time in ms, and a sequence within the same ms; never going back. */
  private nextId(): string {
    const ms = this.now();
    if (ms > this.lastMs) {
      this.lastMs = ms;
      this.lastSeq = 0;
    } else {
      this.lastSeq += 1;
    }
    return `${this.lastMs}-${this.lastSeq}`;
  }
}
