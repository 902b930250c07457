import { compareStreamIds, isStreamId, MAX_REWIND, type EventMessage } from '@matomo-live/protocol';

/**
 * The client's place in a site's visit events: the id of the last event
 * handed to the application. Every connection after the first resumes with
 * `since=<that id>`, so the gateway replays exactly what was missed; a visit
 * at or before it (which a correct gateway never sends) is dropped, so the
 * application sees each event once, in order. An `events_reset` always
 * passes and moves the place to its id: the stream the gateway continues is
 * the truth from then on (it may start lower, after Redis lost the stream).
 */
export class EventTracker {
  private last: string | undefined;

  /** @param since where the first connection starts (the application's own saved id), if anywhere. */
  constructor(since?: string) {
    this.last = since;
  }

  /** The id to resume after, or undefined before any event (and without a starting `since`). */
  get lastId(): string | undefined {
    return this.last;
  }

  /** true when the message goes to the application; records its id. */
  accept(message: EventMessage): boolean {
    if (message.type === 'events_reset') {
      this.last = message.id;
      return true;
    }
    if (this.last !== undefined && compareStreamIds(message.id, this.last) <= 0) return false;
    this.last = message.id;
    return true;
  }
}

/** Refuses event options a gateway would refuse (1008), now rather than on every reconnect. */
export function checkEventOptions({ events, since, rewind }: { events?: string; since?: string; rewind?: number }): void {
  if (events === undefined) return;
  if (events !== 'visits') throw new TypeError(`matomo-live: events must be 'visits', got ${JSON.stringify(events)}`);
  if (since !== undefined && !isStreamId(since)) throw new TypeError(`matomo-live: since is not a stream id: ${JSON.stringify(since)}`);
  if (rewind !== undefined && !(Number.isInteger(rewind) && rewind >= 1 && rewind <= MAX_REWIND))
    throw new TypeError(`matomo-live: rewind must be a whole number from 1 to ${MAX_REWIND}`);
}
