/**
 * Visit events: the lossless, resumable stream next to the snapshots
 * (docs/PROTOCOL.md, "Visit events"). Opt-in: only a connection that asked
 * with `?events=visits` receives them, so the reference's screens never see
 * a message without `visits_live` and `summary`.
 *
 * - `{"type":"visit","site":1,"id":"<stream id>","visit":{…}}`: one new visit,
 *   or an update of one (more actions), in stream order;
 * - `{"type":"events_reset","site":1,"id":"<stream id>","reason":"…"}`: the
 *   client's event state cannot be continued (a new connection without
 *   `since`, an unknown or too old `since`, or events lost upstream). Drop what
 *   was derived from earlier events; the events after `id` follow.
 *
 * Each message's `id` is the position to resume from after a reconnect:
 * `?events=visits&since=<id>` replays every retained event after it, then
 * continues live.
 */
import type { LiveVisit } from './snapshot';

/** `?events=` values a gateway understands. */
export const EVENT_STREAMS = ['visits'] as const;
export type EventStream = (typeof EVENT_STREAMS)[number];

/** A visit as the snapshot shows it, plus Matomo's visit id (`actions` is already there). */
export interface EventVisit extends LiveVisit {
  idVisit: number;
  /**
   * Present (true) on visits that may have been announced already: the poller's cursor was lost (Redis came
   * back empty) and it re-read the retained window. Draw them, but not as new (no "new visit" animation).
   */
  history?: true;
}

/** One new or updated visit. An update (more actions) carries the same `idVisit` and the whole visit again. */
export interface VisitEventMessage {
  type: 'visit';
  site: number;
  /** Stream id ("<ms>-<n>"): resume after it with `since=`. */
  id: string;
  visit: EventVisit;
}

/**
 * Why an `events_reset` came:
 * - `start`: a connection asked for events without `since` (its starting point);
 * - `since-unknown`: `since` is older than the retention, or not in the stream
 *   (lost in a Redis failover, or from another Redis);
 * - `gap`: events were lost upstream (the poller fell further behind than the
 *   retention, or Redis lost the stream).
 */
export const EVENTS_RESET_REASONS = ['start', 'since-unknown', 'gap'] as const;
export type EventsResetReason = (typeof EVENTS_RESET_REASONS)[number];

/** The client's event state cannot be continued: start over from `id`. */
export interface EventsResetMessage {
  type: 'events_reset';
  site: number;
  /** The stream position after which events follow ("0-0" before the first one). */
  id: string;
  reason: EventsResetReason;
}

export type EventMessage = VisitEventMessage | EventsResetMessage;

/** The position before the first event of a stream. */
export const STREAM_START = '0-0';

/** Most events a `rewind=` may ask for. */
export const MAX_REWIND = 10_000;

/** A Redis stream id: milliseconds and a sequence number. */
export interface StreamId {
  ms: number;
  seq: number;
}

const STREAM_ID = /^(\d{1,16})-(\d{1,16})$/;

/** "1795324289393-0" → {ms, seq}; undefined for anything else (Redis's shorthand forms included). */
export function parseStreamId(text: string): StreamId | undefined {
  const match = STREAM_ID.exec(text);
  if (!match) return undefined;
  const ms = Number(match[1]);
  const seq = Number(match[2]);
  return Number.isSafeInteger(ms) && Number.isSafeInteger(seq) ? { ms, seq } : undefined;
}

export function isStreamId(text: string): boolean {
  return parseStreamId(text) !== undefined;
}

/** Orders two stream ids (negative when a comes first); ids must be valid (parseStreamId). */
export function compareStreamIds(a: string, b: string): number {
  const x = parseStreamId(a);
  const y = parseStreamId(b);
  if (!x || !y) throw new TypeError(`not a stream id: ${!x ? a : b}`);
  return x.ms - y.ms || x.seq - y.seq;
}

/** What a connection asked for about events (query `events`, `since`, `rewind`). */
export interface EventsRequest {
  stream: EventStream;
  /** Resume after this id. */
  since?: string;
  /** Without `since`: replay up to this many of the latest retained events first (1…MAX_REWIND). */
  rewind?: number;
}

/**
 * Reads the query options of events. `events` absent or empty: no events
 * (undefined), and `since`/`rewind` are ignored, as they were before events
 * existed. Otherwise an error text for a bad value.
 */
export function parseEventsRequest(
  events: string | null | undefined,
  since: string | null | undefined,
  rewind: string | null | undefined,
): { request: EventsRequest | undefined; error?: string } {
  if (events === null || events === undefined || events.trim() === '') return { request: undefined };
  const stream = events.trim();
  if (!(EVENT_STREAMS as readonly string[]).includes(stream)) return { request: undefined, error: `unknown events "${stream}"` };
  const request: EventsRequest = { stream: stream as EventStream };
  if (since !== null && since !== undefined && since !== '') {
    if (!isStreamId(since)) return { request: undefined, error: 'since is not a stream id' };
    request.since = since;
  }
  if (rewind !== null && rewind !== undefined && rewind !== '') {
    const n = /^\d{1,6}$/.test(rewind) ? Number(rewind) : NaN;
    if (!(n >= 1 && n <= MAX_REWIND)) return { request: undefined, error: `rewind must be 1…${MAX_REWIND}` };
    request.rewind = n;
  }
  return { request };
}

/**
 * Recognizes an event message among parsed messages; undefined for anything
 * else (snapshots, pongs, types of later versions). Checks the envelope only:
 * a `visit` is passed on as the server sent it.
 */
export function asEventMessage(message: unknown): EventMessage | undefined {
  if (message === null || typeof message !== 'object') return undefined;
  const m = message as Record<string, unknown>;
  if (typeof m.id !== 'string' || !isStreamId(m.id) || !Number.isSafeInteger(m.site)) return undefined;
  if (m.type === 'visit') return m.visit !== null && typeof m.visit === 'object' ? (m as unknown as VisitEventMessage) : undefined;
  if (m.type === 'events_reset') return m as unknown as EventsResetMessage;
  return undefined;
}
