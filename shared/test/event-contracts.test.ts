import { STREAM_START } from '@matomo-live/protocol';
import { InMemoryEventStreams, type EventsWrite, type StoredEvent } from '../src/event-contracts';

function write(expectedVersion: number, data: string[], extra: Partial<EventsWrite> = {}): EventsWrite {
  return {
    entries: data.map((d) => ({ kind: 'visit', data: d })),
    cursor: { expectedVersion, after: 100 + expectedVersion, offset: 0, set: [], forget: [] },
    retentionMs: 60_000,
    maxLen: 1000,
    ...extra,
  };
}

describe('InMemoryEventStreams (the in-process EventSource)', () => {
  it('chains every entry to the one before it, with ids that never go back in the same ms', async () => {
    const streams = new InMemoryEventStreams(() => 5000);
    expect(await streams.lastId(1)).toBe(STREAM_START);
    const ids = streams.append(1, write(0, ['a', 'b']));
    const more = streams.append(1, write(1, ['c']));
    expect([...ids, ...more]).toEqual(['5000-0', '5000-1', '5000-2']);
    const all = await streams.range(1, STREAM_START, 10);
    expect(all.map((e) => [e.id, e.prev, e.data])).toEqual([
      ['5000-0', STREAM_START, 'a'],
      ['5000-1', '5000-0', 'b'],
      ['5000-2', '5000-1', 'c'],
    ]);
    expect(await streams.range(1, '5000-0', 1)).toEqual([all[1]]);
    expect(await streams.latest(1, 2)).toEqual(all.slice(1));
    expect(await streams.lastId(1)).toBe('5000-2');
  });

  it('delivers each append as one batch to the subscriber, and nothing after unsubscribe', async () => {
    const streams = new InMemoryEventStreams();
    const batches: StoredEvent[][] = [];
    await streams.subscribe(2, (events) => batches.push(events));
    streams.append(2, write(0, ['x', 'y']));
    streams.append(2, write(1, []));
    await streams.unsubscribe(2);
    streams.append(2, write(2, ['z']));
    expect(batches.map((b) => b.map((e) => e.data))).toEqual([['x', 'y']]);
  });

  it('trims by retention and by length, but keeps lastId', async () => {
    let now = 1000;
    const streams = new InMemoryEventStreams(() => now);
    streams.append(3, write(0, ['old'], { retentionMs: 500 }));
    now = 2000;
    streams.append(3, write(1, ['new1', 'new2', 'new3'], { retentionMs: 500, maxLen: 2 }));
    expect((await streams.range(3, STREAM_START, 10)).map((e) => e.data)).toEqual(['new2', 'new3']);
    expect(await streams.lastId(3)).toBe('2000-2');
  });

  it('moves the cursor with every write: version, position and remembered visits', () => {
    const streams = new InMemoryEventStreams();
    expect(streams.readCursor(4)).toBeNull();
    expect(streams.cursorVersion(4)).toBe(0);
    streams.append(
      4,
      write(0, [], {
        cursor: {
          expectedVersion: 0,
          after: 10,
          offset: 2,
          set: [
            [7, '1:10'],
            [8, '2:10'],
          ],
          forget: [],
        },
      }),
    );
    streams.append(4, write(1, [], { cursor: { expectedVersion: 1, after: 11, offset: 0, set: [[8, '3:11']], forget: [7] } }));
    expect(streams.readCursor(4)).toEqual({ after: 11, offset: 0, version: 2, seen: [[8, '3:11']] });
    expect(streams.cursorVersion(4)).toBe(2);
  });
});
