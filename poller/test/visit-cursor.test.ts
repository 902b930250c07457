import type { LiveVisit } from '@matomo-live/protocol';
import type { VisitRow } from '../src/matomo-answers';
import {
  advanceCursor,
  cursorFromStore,
  cursorQuery,
  freshCursor,
  MAX_SEEN,
  SEEN_WINDOW_S,
  startOf,
  type CursorState,
} from '../src/visit-cursor';

const T = 1_795_950_000;

function visit(city: string): LiveVisit {
  return {
    latitude: 1,
    longitude: 2,
    city,
    countryCode: 'fr',
    country: 'France',
    actions: 1,
    visitIp: '',
    operatingSystem: 'Linux',
    browserName: 'Firefox',
    source: '',
    lastActionDateTime: '2026-11-29 12:00:00',
    lastActionUtc: '2026-11-29T11:00:00Z',
  };
}

function row(idVisit: number, at: number, actions = 1, located = true): VisitRow {
  return { idVisit, actions, lastActionTimestamp: at, visit: located ? { ...visit(`c${idVisit}`), actions } : null };
}

const state = (after: number, offset = 0, seen: Array<[number, number, number]> = []): CursorState => ({
  after,
  offset,
  seen: new Map(seen.map(([id, actions, at]) => [id, { actions, at }])),
  version: 4,
});

const visitsOf = (events: Array<{ kind: string; data: string }>) =>
  events.map((e) => (e.kind === 'visit' ? (JSON.parse(e.data) as { idVisit: number; actions: number }) : e.kind));

describe('advanceCursor', () => {
  it('after a lost cursor: marks the visits up to the mark history, later ones new, and drops the mark once past it', () => {
    const fresh = freshCursor(T, 1800);
    // Whole seconds: the restart's own second (T) counts as new, so at most a second of visits is announced twice.
    const first = advanceCursor(fresh, [row(1, T - 600), row(2, T - 1), row(3, T)], 100, false, true);
    expect(visitsOf(first.events)).toEqual([
      expect.objectContaining({ idVisit: 1, history: true }),
      expect.objectContaining({ idVisit: 2, history: true }),
      expect.not.objectContaining({ history: expect.anything() }),
    ]);
    // The cursor re-reads T's second: every row from now on is new, the mark is neither kept nor written.
    expect(first.next).not.toHaveProperty('historyUntil');
    expect(first.write).not.toHaveProperty('historyUntil');
    // A catch-up that stops before the mark (EVENTS_PER_TICK) keeps it, in memory and in the store.
    const capped = advanceCursor(fresh, [row(1, T - 600), row(2, T - 500)], 1, false, true);
    expect(capped.next.historyUntil).toBe(T);
    expect(capped.write.historyUntil).toBe(T);
  });

  it('turns every row into an event, oldest first, and re-reads the last second next time', () => {
    const step = advanceCursor(state(T), [row(1, T + 1), row(2, T + 1), row(3, T + 5)], 100, false, true);
    expect(visitsOf(step.events)).toEqual([
      expect.objectContaining({ idVisit: 1, actions: 1, city: 'c1' }),
      expect.objectContaining({ idVisit: 2 }),
      expect.objectContaining({ idVisit: 3 }),
    ]);
    expect(step.next).toMatchObject({ after: T + 4, offset: 0, version: 5 });
    expect(step.write).toEqual({
      expectedVersion: 4,
      after: T + 4,
      offset: 0,
      set: [
        [1, `1:${T + 1}`],
        [2, `1:${T + 1}`],
        [3, `1:${T + 5}`],
      ],
      forget: [],
    });
    expect(step.capHit).toBe(false);
  });

  it('skips a visit already taken unless its action count grew (a re-read second, a content impression)', () => {
    const before = state(T + 4, 0, [[3, 1, T + 5]]);
    const step = advanceCursor(before, [row(3, T + 5), row(4, T + 5), row(3, T + 9, 1), row(5, T + 9, 2)], 100, false, true);
    expect(visitsOf(step.events)).toEqual([expect.objectContaining({ idVisit: 4 }), expect.objectContaining({ idVisit: 5, actions: 2 })]);
    // The impression keeps the visit remembered longer, without an event.
    expect(step.next.seen.get(3)).toEqual({ actions: 1, at: T + 9 });
    const grown = advanceCursor(step.next, [row(3, T + 20, 2)], 100, false, true);
    expect(visitsOf(grown.events)).toEqual([expect.objectContaining({ idVisit: 3, actions: 2 })]);
  });

  it('makes no event of a visit the options drop (no location), but moves past it', () => {
    const step = advanceCursor(state(T), [row(1, T + 3, 1, false)], 100, false, true);
    expect(step.events).toEqual([]);
    expect(step.next.after).toBe(T + 2);
    expect(step.rows).toHaveLength(1);
  });

  it('takes only the cap and says so; the rest come next tick, none lost', () => {
    const rows = [row(1, T + 1), row(2, T + 2), row(3, T + 3), row(4, T + 4)];
    const first = advanceCursor(state(T), rows, 3, false, true);
    expect(first.capHit).toBe(true);
    expect(visitsOf(first.events).map((v) => (v as { idVisit: number }).idVisit)).toEqual([1, 2, 3]);
    expect(cursorQuery(first.next, 3)).toEqual({ minTimestamp: T + 2, filterOffset: 0, filterLimit: 4 });
    // Matomo answers after T+2: visit 3 again (taken) and 4.
    const second = advanceCursor(first.next, [row(3, T + 3), row(4, T + 4)], 3, false, true);
    expect(visitsOf(second.events).map((v) => (v as { idVisit: number }).idVisit)).toEqual([4]);
  });

  it('pages inside one second that holds more visits than the cap', () => {
    const crowd = Array.from({ length: 7 }, (_, i) => row(10 + i, T + 1));
    const first = advanceCursor(state(T), crowd.slice(0, 4), 3, false, true);
    expect(first.next).toMatchObject({ after: T, offset: 3 });
    const second = advanceCursor(first.next, crowd.slice(3, 7), 3, false, true);
    expect(second.next).toMatchObject({ after: T, offset: 6 });
    const third = advanceCursor(second.next, [crowd[6]!, row(20, T + 2)], 3, false, true);
    expect(third.next).toMatchObject({ after: T + 1, offset: 0 });
    const ids = [first, second, third].flatMap((s) => visitsOf(s.events).map((v) => (v as { idVisit: number }).idVisit));
    expect(ids).toEqual([10, 11, 12, 13, 14, 15, 16, 20]);
  });

  it('keeps its place when nothing new came (no write needed)', () => {
    const before = state(T + 4, 0, [[3, 1, T + 5]]);
    const step = advanceCursor(before, [row(3, T + 5)], 100, false, true);
    expect(step.events).toEqual([]);
    expect(step.write).toMatchObject({ after: T + 4, offset: 0, set: [], forget: [] });
  });

  it('forgets visits whose last action is older than a visit can last', () => {
    const before = state(T, 0, [
      [1, 1, T - SEEN_WINDOW_S - 10],
      [2, 1, T - 5],
    ]);
    const step = advanceCursor(before, [row(3, T + 100)], 100, false, true);
    expect(step.write.forget).toEqual([1]);
    expect([...step.next.seen.keys()]).toEqual([2, 3]);
  });

  it('bounds its memory whatever the traffic', () => {
    const seen: Array<[number, number, number]> = Array.from({ length: MAX_SEEN }, (_, i) => [i + 1, 1, T + 1]);
    const step = advanceCursor(state(T, 0, seen), [row(MAX_SEEN + 1, T + 2)], 100, false, true);
    expect(step.next.seen.size).toBe(MAX_SEEN);
    expect(step.write.forget).toHaveLength(1);
  });

  it('starts with a gap reset after a jump, and without events when events are off', () => {
    const jumped = advanceCursor(state(T), [row(1, T + 1)], 100, true, true);
    expect(visitsOf(jumped.events)).toEqual(['reset', expect.objectContaining({ idVisit: 1 })]);
    expect(jumped.events[0]!.data).toBe('"gap"');
    const off = advanceCursor(state(T), [row(1, T + 1)], 100, true, false);
    expect(off.events).toEqual([]);
    expect(off.next.after).toBe(T);
  });
});

describe('startOf / freshCursor / cursorFromStore', () => {
  it('jumps a cursor older than the retention to now − retention', () => {
    expect(startOf(state(T - 100), T, 1800)).toEqual({ state: state(T - 100), jumped: false });
    expect(startOf(state(T - 2000, 5), T, 1800)).toEqual({ state: { ...state(T - 1800), offset: 0 }, jumped: true });
  });

  it('starts a fresh cursor one retention back (the stream begins with the recent history), marked history up to now', () => {
    expect(freshCursor(T, 1800)).toEqual({ after: T - 1800, offset: 0, seen: new Map(), version: 0, historyUntil: T });
  });

  it('keeps a stored history mark while the cursor is before it', () => {
    expect(cursorFromStore({ after: T, offset: 0, version: 1, seen: [], historyUntil: T + 5 })).toMatchObject({ historyUntil: T + 5 });
    expect(cursorFromStore({ after: T, offset: 0, version: 1, seen: [], historyUntil: T + 1 })).not.toHaveProperty('historyUntil');
  });

  it('reads a stored cursor, dropping entries it cannot parse', () => {
    expect(
      cursorFromStore({
        after: T,
        offset: 2,
        version: 9,
        seen: [
          [1, `3:${T}`],
          [2, 'junk'],
        ],
      }),
    ).toEqual({ after: T, offset: 2, version: 9, seen: new Map([[1, { actions: 3, at: T }]]) });
  });
});
