import { STREAM_START } from '@matomo-live/protocol';
import { InMemoryEventStreams, type EventSource, type EventsWrite, type StoredEvent } from '@matomo-live/shared';
import { capturedLogger } from '@matomo-live/test-support/logger';
import { waitFor } from '@matomo-live/test-support/wait-for';
import type { FramedMessage } from '../../src/sessions/broadcast-writer';
import { entryPayload, resetPayload, SiteEvents } from '../../src/events/site-events';

/** The in-memory stream, with its live messages droppable (a lost pub/sub message). */
class LossySource implements EventSource {
  readonly streams = new InMemoryEventStreams();
  drop = false;
  subscribed = false;
  subscribe(siteId: number, onEvents: (events: StoredEvent[]) => void): Promise<void> {
    this.subscribed = true;
    return this.streams.subscribe(siteId, (events) => {
      if (!this.drop) onEvents(events);
    });
  }
  unsubscribe(siteId: number): Promise<void> {
    this.subscribed = false;
    return this.streams.unsubscribe(siteId);
  }
  range(siteId: number, afterId: string, count: number): Promise<StoredEvent[]> {
    return this.streams.range(siteId, afterId, count);
  }
  latest(siteId: number, count: number): Promise<StoredEvent[]> {
    return this.streams.latest(siteId, count);
  }
  lastId(siteId: number): Promise<string> {
    return this.streams.lastId(siteId);
  }
  onResync(): void {}
}

let version = 0;
function visits(ids: number[], maxLen = 1000): EventsWrite {
  return {
    entries: ids.map((id) => ({ kind: 'visit', data: `{"idVisit":${id}}` })),
    cursor: { expectedVersion: version++, after: 0, offset: 0, set: [], forget: [] },
    retentionMs: 3_600_000,
    maxLen,
  };
}

/** A live client that keeps what it is sent. */
function subscriber() {
  const texts: string[] = [];
  return { texts, push: (m: FramedMessage) => (texts.push(m.payload.toString()), true) };
}

describe('SiteEvents', () => {
  let source: LossySource;
  let log: ReturnType<typeof capturedLogger>;
  let gaps: number;
  let site: SiteEvents;

  beforeEach(() => {
    version = 0;
    gaps = 0;
    source = new LossySource();
    log = capturedLogger();
    site = new SiteEvents({ siteId: 1, source, logger: log.logger, encode: (p) => p, onGap: () => gaps++ });
  });

  it('builds the visit and reset messages clients receive', () => {
    expect(JSON.parse(entryPayload(1, { id: '5-0', prev: '4-0', kind: 'visit', data: '{"idVisit":3}' }).toString())).toEqual({
      type: 'visit',
      site: 1,
      id: '5-0',
      visit: { idVisit: 3 },
    });
    expect(JSON.parse(resetPayload(2, '5-0', 'gap').toString())).toEqual({ type: 'events_reset', site: 2, id: '5-0', reason: 'gap' });
  });

  it('starts at the stream’s last id and hands new events to live clients in order', async () => {
    source.streams.append(1, visits([1]));
    await site.activate();
    expect(site.head).toBe(await source.lastId(1));
    const client = subscriber();
    site.live.add(client);
    source.streams.append(1, visits([2, 3]));
    expect(client.texts.map((t) => (JSON.parse(t) as { visit: { idVisit: number } }).visit.idVisit)).toEqual([2, 3]);
    const [first] = await source.range(1, STREAM_START, 1);
    expect(site.entriesAfter(first!.id)?.map((e) => e.message.payload.toString())).toEqual(client.texts);
    expect(site.entriesAfter(site.head!)).toEqual([]);
    expect(site.entriesAfter('1-999')).toBeUndefined();
  });

  it('repairs a lost message from the stream when the next one does not follow its head', async () => {
    await site.activate();
    const client = subscriber();
    site.live.add(client);
    source.drop = true;
    source.streams.append(1, visits([1, 2]));
    source.drop = false;
    source.streams.append(1, visits([3]));
    await waitFor(() => client.texts.length === 3, 'the lost events read from the stream');
    expect(client.texts.map((t) => (JSON.parse(t) as { visit: { idVisit: number } }).visit.idVisit)).toEqual([1, 2, 3]);
    expect(gaps).toBe(0);
  });

  it('sends events_reset (gap) when the stream was trimmed past its head, then continues', async () => {
    await site.activate();
    const client = subscriber();
    site.live.add(client);
    source.drop = true;
    source.streams.append(1, visits([1, 2, 3], 1));
    source.drop = false;
    await site.sync();
    expect(gaps).toBe(1);
    const types = client.texts.map((t) => (JSON.parse(t) as { type: string; reason?: string }).reason ?? 'visit');
    expect(types).toEqual(['gap', 'visit']);
    expect(log.text()).toContain('visit events lost in Redis');
    expect(site.head).toBe(await source.lastId(1));
  });

  it('unsubscribes when nobody wants the site’s events any more, and not before', async () => {
    await site.activate();
    const client = subscriber();
    site.live.add(client);
    await site.deactivate();
    expect(source.subscribed).toBe(true);
    site.live.delete(client);
    await site.deactivate();
    expect(source.subscribed).toBe(false);
    expect(site.active).toBe(false);
    expect(site.head).toBeUndefined();
  });

  it('drops a live client that reports it is gone', async () => {
    await site.activate();
    site.live.add({ push: () => false });
    source.streams.append(1, visits([1]));
    expect(site.live.size).toBe(0);
  });
});
