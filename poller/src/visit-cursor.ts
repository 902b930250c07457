import type { EventVisit } from '@matomo-live/protocol';
import type { CursorWrite, NewEvent, StoredCursor } from '@matomo-live/shared';
import type { VisitRow } from './matomo-answers';

/**
 * The incremental fetch, as pure state and steps (no I/O): which visits to
 * ask Matomo for, and what its answer turns into.
 *
 * Matomo's `Live.getLastVisitsDetails&minTimestamp=T` returns the visits whose
 * last action is strictly after T (whole seconds); `filter_sort_order=asc`
 * orders them oldest first by (last action time, idvisit) and
 * `filter_limit=CAP+1` takes the oldest CAP+1 after the cursor — one row more
 * than we take, which tells that more are waiting. A visit comes back when it
 * gets a new action (larger `actions`, later last action), so the answer holds
 * new *and* updated visits.
 *
 * - The cursor re-reads the second of the last visit taken (`after` = its
 *   time − 1), since more visits may still land in that second; the visits
 *   already turned into events are remembered (`seen`: idVisit → actions) and
 *   skipped unless their action count grew. A visit that comes back with the
 *   same actions (a content impression moves its last action time but not its
 *   action count) is skipped too.
 * - More rows than the cap: the first CAP are taken and the cursor stops at
 *   the last one's second; the rest come next tick (late, never lost). When
 *   all of them share one second, the cursor pages inside it (`offset`).
 * - A cursor older than the retention (a poller down for longer, or further
 *   behind than EVENTS_PER_TICK can catch up) jumps to now − retention and
 *   leaves a `reset` (reason `gap`) in the stream: clients learn that events
 *   were lost instead of receiving hour-old visits as news.
 * - Invisible to any cursor (docs/POLLER.md): pings (they do not move the last
 *   action time), hits tracked late with an older `cdt` (log imports,
 *   QueuedTracking, offline SDK queues) and out-of-order hits.
 */

/** How long a visit is remembered after its last action: Matomo starts a new visit after 30 minutes without one. */
export const SEEN_WINDOW_S = 1800 + 60;

/** Upper bound of remembered visits per site, whatever the traffic (~50 bytes each). */
export const MAX_SEEN = 200_000;

export interface SeenVisit {
  actions: number;
  /** Last action, Unix s. */
  at: number;
}

export interface CursorState {
  /** minTimestamp of the next query (Unix s). */
  after: number;
  /** filter_offset of the next query: rows of the second after+1 already taken. */
  offset: number;
  seen: Map<number, SeenVisit>;
  /** The stored version this state corresponds to. */
  version: number;
  /**
   * Visits whose last action is before this second (Unix s) may have been announced as new already: the stored
   * cursor was missing (Redis came back empty, or a first start) and this one restarted from the retention.
   * Their events carry `history: true` (clients do not show them as new). Undefined once the cursor is past it.
   */
  historyUntil?: number;
}

/** One tick's outcome: the events, the next state, and its change as written to the store. */
export interface CursorStep {
  events: NewEvent[];
  /** Every row the cursor moved over, events or not (the snapshot's latest visits follow them all). */
  rows: readonly VisitRow[];
  next: CursorState;
  write: CursorWrite;
  /** More rows than the cap were waiting: the next tick continues from here. */
  capHit: boolean;
  /** The cursor was older than the retention and jumped (a `gap` reset is the first event). */
  jumped: boolean;
}

/**
 * A fresh cursor: nothing stored (a first start, or Redis came back empty). Starts `retentionS` back so the
 * stream begins with the recent history, and marks the visits up to now as history: this poller or another
 * may have announced them already, and a screen must not show them as new again.
 */
export function freshCursor(matomoNowS: number, retentionS: number): CursorState {
  return { after: matomoNowS - retentionS, offset: 0, seen: new Map(), version: 0, historyUntil: matomoNowS };
}

/** The state a stored cursor describes (entries that do not parse are dropped: they only cost a repeated event). */
export function cursorFromStore(stored: StoredCursor): CursorState {
  const seen = new Map<number, SeenVisit>();
  for (const [id, value] of stored.seen) {
    const match = /^(\d+):(\d+)$/.exec(value);
    if (match && Number.isSafeInteger(id)) seen.set(id, { actions: Number(match[1]), at: Number(match[2]) });
  }
  const history = stored.historyUntil !== undefined && stored.after < stored.historyUntil - 1 ? { historyUntil: stored.historyUntil } : {};
  return { after: stored.after, offset: stored.offset, seen, version: stored.version, ...history };
}

/** Query parameters of the cursor's sub-request (after a possible jump, see startOf). */
export function cursorQuery(state: CursorState, cap: number): { minTimestamp: number; filterOffset: number; filterLimit: number } {
  return { minTimestamp: state.after, filterOffset: state.offset, filterLimit: cap + 1 };
}

/**
 * Where this tick's query starts: the state itself, or — when it is older
 * than the retention — now − retention (the events in between are lost:
 * `jumped`).
 */
export function startOf(state: CursorState, matomoNowS: number, retentionS: number): { state: CursorState; jumped: boolean } {
  const floor = matomoNowS - retentionS;
  if (state.after >= floor) return { state, jumped: false };
  return { state: { ...state, after: floor, offset: 0 }, jumped: true };
}

/**
 * Turns the answer to cursorQuery(`state`) — rows oldest first — into events
 * and the next state. `state` is the one the query was built from (after
 * startOf), `jumped` whether startOf moved it; `eventsWanted` false
 * (EVENTS_RETENTION=0) keeps the bookkeeping and makes no events.
 */
export function advanceCursor(
  state: CursorState,
  rows: readonly VisitRow[],
  cap: number,
  jumped: boolean,
  eventsWanted: boolean,
): CursorStep {
  const capHit = rows.length > cap;
  const processed = capHit ? rows.slice(0, cap) : rows;
  const seen = new Map(state.seen);
  const set: Array<[number, string]> = [];
  const events: NewEvent[] = jumped && eventsWanted ? [{ kind: 'reset', data: JSON.stringify('gap') }] : [];
  const remember = (row: VisitRow, actions: number) => {
    seen.set(row.idVisit, { actions, at: row.lastActionTimestamp });
    set.push([row.idVisit, `${actions}:${row.lastActionTimestamp}`]);
  };
  for (const row of processed) {
    // A visit the options drop (no location) makes no event and needs no memory: it makes none next time either.
    if (row.visit === null) continue;
    const known = seen.get(row.idVisit);
    if (known && row.actions <= known.actions) {
      // Back without a new action (a content impression): no event, but the visit is still going on.
      if (row.lastActionTimestamp > known.at) remember(row, known.actions);
      continue;
    }
    remember(row, row.actions);
    if (eventsWanted) {
      // Strictly before the restart's second: a visit of that very second may be new (at most a second of visits may
      // be announced twice, rather than a new visit shown as history).
      const history = state.historyUntil !== undefined && row.lastActionTimestamp < state.historyUntil;
      const visit: EventVisit = { ...row.visit, idVisit: row.idVisit, ...(history ? { history: true as const } : {}) };
      events.push({ kind: 'visit', data: JSON.stringify(visit) });
    }
  }
  let { after, offset } = state;
  const last = processed[processed.length - 1];
  if (last !== undefined) {
    if (last.lastActionTimestamp - 1 > after) {
      // Re-read the last visit's second next time: more may still land in it (`seen` skips those taken).
      after = last.lastActionTimestamp - 1;
      offset = 0;
    } else if (capHit) {
      // A full page, all in the second after `after` (a crowd in one second): page on inside it.
      offset += processed.length;
    }
  }
  const forget: number[] = [];
  const oldest = after - SEEN_WINDOW_S;
  for (const [id, visit] of seen) if (visit.at < oldest) forget.push(id);
  for (const id of forget) seen.delete(id);
  if (seen.size > MAX_SEEN) {
    const excess = [...seen].sort((a, b) => a[1].at - b[1].at).slice(0, seen.size - MAX_SEEN);
    for (const [id] of excess) {
      seen.delete(id);
      forget.push(id);
    }
  }
  // Rows come after `after`: once it reaches the mark's second − 1, every row is new; the mark is dropped (and no longer stored).
  const historyUntil = state.historyUntil !== undefined && after < state.historyUntil - 1 ? { historyUntil: state.historyUntil } : {};
  return {
    events,
    rows: processed,
    next: { after, offset, seen, version: state.version + 1, ...historyUntil },
    write: { expectedVersion: state.version, after, offset, set, forget, ...historyUntil },
    capHit,
    jumped,
  };
}
