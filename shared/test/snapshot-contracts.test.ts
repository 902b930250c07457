import { STREAM_START } from '@matomo-live/protocol';
import type { EventsWrite } from '../src/event-contracts';
import { InMemorySnapshotBus, type PublishRequest } from '../src/snapshot-contracts';

function request(seq: number, digest: string, extra: Partial<PublishRequest> = {}): PublishRequest {
  return { seq, digest, bytes: Buffer.from(`${digest}@${seq}`), ...extra };
}

function events(expectedVersion: number, data: string[]): EventsWrite {
  return {
    entries: data.map((d) => ({ kind: 'visit', data: d })),
    cursor: { expectedVersion, after: 1, offset: 0, set: [], forget: [] },
    retentionMs: 60_000,
    maxLen: 100,
  };
}

describe('InMemorySnapshotBus (both sides of the snapshot contract in one process)', () => {
  it('stores and delivers a changed snapshot, and reports an unchanged one without delivering it', async () => {
    const bus = new InMemorySnapshotBus();
    const delivered: string[] = [];
    expect(await bus.subscribe(1, (b) => delivered.push(b.toString()))).toBeNull();
    expect(await bus.publish(1, request(1, 'd1'))).toEqual({ kind: 'published', seq: 1, events: undefined });
    expect(await bus.publish(1, request(2, 'd1'))).toEqual({ kind: 'unchanged', seq: 1, events: undefined });
    expect(await bus.readState(1)).toEqual({ seq: 1, digest: 'd1' });
    expect(delivered).toEqual(['d1@1']);
    expect((await bus.subscribe(1, () => undefined))?.toString()).toBe('d1@1');
  });

  it('refuses a seq at or below the stored one, and republishes equal content the caller knows was lost', async () => {
    const bus = new InMemorySnapshotBus();
    await bus.publish(1, request(5, 'a'));
    expect(await bus.publish(1, request(5, 'b'))).toEqual({ kind: 'seq-behind', storedSeq: 5 });
    expect(await bus.publish(1, request(9, 'a', { knownSeq: 8 }))).toMatchObject({ kind: 'published', seq: 9 });
  });

  it('writes events with the cursor version it expects, and nothing when the version is stale', async () => {
    const bus = new InMemorySnapshotBus();
    const first = await bus.publish(1, request(1, 'a', { events: events(0, ['v1']) }));
    expect(first).toMatchObject({ kind: 'published', events: { cursorVersion: 1 } });
    expect(await bus.publish(1, request(2, 'b', { events: events(0, ['v2']) }))).toEqual({ kind: 'cursor-stale', version: 1 });
    expect(await bus.readState(1)).toEqual({ seq: 1, digest: 'a' });
    const unchanged = await bus.publish(1, request(2, 'a', { events: events(1, ['v3']) }));
    expect(unchanged).toMatchObject({ kind: 'unchanged', events: { cursorVersion: 2 } });
    expect((await bus.events.range(1, STREAM_START, 10)).map((e) => e.data)).toEqual(['v1', 'v3']);
    expect((await bus.readCursor(1))?.version).toBe(2);
  });

  it('is always ready and stops delivering once closed', async () => {
    const bus = new InMemorySnapshotBus();
    const delivered: Buffer[] = [];
    await bus.subscribe(1, (b) => delivered.push(b));
    expect(bus.isReady()).toBe(true);
    await bus.close();
    await bus.publish(1, request(1, 'a'));
    expect(delivered).toEqual([]);
  });

  it('keeps the latest heartbeat until its TTL and delivers each one to the watcher', async () => {
    let now = 1_000;
    const bus = new InMemorySnapshotBus(() => now);
    expect(await bus.watchHeartbeat(1, () => undefined)).toBeNull();
    const heard: string[] = [];
    await bus.publishHeartbeat(1, Buffer.from('h1'), 15_000);
    now += 5_000;
    expect(await bus.watchHeartbeat(1, (b) => heard.push(b.toString()))).toEqual({ bytes: Buffer.from('h1'), ttlLeftMs: 10_000 });
    await bus.publishHeartbeat(1, Buffer.from('h2'), 15_000);
    await bus.publishHeartbeat(2, Buffer.from('other site'), 15_000);
    expect(heard).toEqual(['h2']);
    now += 15_000;
    expect(await bus.watchHeartbeat(1, () => undefined)).toBeNull();
    // A heartbeat just published comes without a TTL: it is heard now.
    const args: unknown[][] = [];
    await bus.watchHeartbeat(1, (...a) => args.push(a));
    await bus.publishHeartbeat(1, Buffer.from('h3'), 15_000);
    expect(args).toEqual([[Buffer.from('h3')]]);
  });
});
