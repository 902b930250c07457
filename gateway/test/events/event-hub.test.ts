/**
 * Visit events in a gateway, through real WebSocket clients: the gateway with
 * the single-process mode's in-memory bus (its EventSource follows the Redis
 * stream's rules: ids, prev, retention), events appended the way the poller's
 * publish does. Over Redis: standalone/test/visit-events.test.ts (the whole
 * path) and gateway/test/events/redis-event-source.test.ts (the source).
 */
import { compareStreamIds, type EventMessage, type EventVisit } from '@matomo-live/protocol';
import { contentDigest, encodeSnapshot, type NewEvent, type SnapshotFeed } from '@matomo-live/shared';
import { eventsOf, nonEventsOf, resetsOf, untilVisits, visitsOf } from '@matomo-live/test-support/events';
import { gatewayConfigFrom, MemorySnapshots, startGateway, type RunningGateway } from '@matomo-live/test-support/gateway';
import { TestClient } from '@matomo-live/test-support/ws-client';
import { content, TOKEN } from '../support/harness';

function visit(idVisit: number, actions = 1): EventVisit {
  return {
    latitude: 1,
    longitude: 2,
    city: `city-${idVisit}`,
    countryCode: 'fr',
    country: 'France',
    actions,
    visitIp: '',
    operatingSystem: 'Linux',
    browserName: 'Firefox',
    source: '',
    lastActionDateTime: '2026-11-29 12:00:00',
    lastActionUtc: '2026-11-29T11:00:00Z',
    idVisit,
  };
}

describe('visit events in a gateway', () => {
  let bus: MemorySnapshots;
  let gateway: RunningGateway;
  let version = 0;
  let seq = 1000;
  let nextVisit = 1;
  const clients: TestClient[] = [];

  /** Appends events as one poller publish would (the snapshot unchanged); returns the new ids. */
  async function append(entries: NewEvent[]): Promise<string[]> {
    const snapshot = content(1, 5);
    const outcome = await bus.publish(1, {
      ...publishArgs(snapshot),
      events: {
        entries,
        cursor: { expectedVersion: version, after: 0, offset: 0, set: [], forget: [] },
        retentionMs: 1_800_000,
        maxLen: 100_000,
      },
    });
    if (outcome.kind !== 'unchanged' && outcome.kind !== 'published') throw new Error(outcome.kind);
    version = outcome.events!.cursorVersion;
    return outcome.events!.ids;
  }
  function publishArgs(snapshot: ReturnType<typeof content>) {
    return { digest: contentDigest(snapshot), seq: ++seq, bytes: encodeSnapshot(snapshot, seq, new Date()) };
  }
  /** `n` new visits in one publish; returns their ids. */
  const visits = (n: number) =>
    append(Array.from({ length: n }, () => ({ kind: 'visit' as const, data: JSON.stringify(visit(nextVisit++)) })));

  const connect = (query = '', url = gateway.url) => {
    const client = TestClient.connect(`${url}?token=${TOKEN}${query}`);
    clients.push(client);
    return client;
  };
  const started = async (client: TestClient) => {
    await client.until(() => resetsOf(client).length >= 1, 'the starting point');
    return resetsOf(client)[0]!;
  };

  beforeAll(async () => {
    bus = new MemorySnapshots();
    await bus.publishContent(1, content(1, 5), seq);
    gateway = await startGateway(gatewayConfigFrom({ VALID_TOKENS: TOKEN, PORT: '0', HOST: '127.0.0.1', DASHBOARD_DIR: 'off' }), {
      feed: bus,
    });
  });

  afterAll(async () => {
    for (const client of clients) client.ws.terminate();
    await gateway?.stop();
    await bus?.close();
  });

  it('sends the snapshot, a start reset, then every visit in order; a plain client only ever gets snapshots', async () => {
    const events = connect('&events=visits');
    const plain = connect();
    const reset = await started(events);
    expect(reset).toMatchObject({ type: 'events_reset', site: 1, reason: 'start' });
    // The snapshot first, then the events.
    expect(Object.keys(events.json(0)).slice(0, 2)).toEqual(['visits_live', 'summary']);
    await plain.nextMessages(1);
    const ids = await visits(12);
    const received = await untilVisits(events, 12);
    expect(received.map((e) => e.id)).toEqual(ids);
    expect(received.map((e) => e.visit.idVisit)).toEqual(received.map((_, i) => i + 1));
    expect(received[0]).toEqual({ type: 'visit', site: 1, id: ids[0], visit: visit(1) });
    await events.until(() => false, 'nothing more', 200).catch(() => undefined);
    for (const message of plain.messages)
      expect(Object.keys(JSON.parse(message) as object).slice(0, 2)).toEqual(['visits_live', 'summary']);
    expect(eventsOf(plain)).toEqual([]);
  });

  it('combines fields= with events: snapshots with the asked fields, events whole', async () => {
    const client = connect('&events=visits&fields=summary');
    await started(client);
    const [id] = await visits(1);
    const [event] = await untilVisits(client, 1);
    expect(event!.id).toBe(id);
    expect(Object.keys(nonEventsOf(client)[0]!).sort()).toEqual(['seq', 'site', 'summary', 'updated_at']);
  });

  it('since= replays exactly the events after it, then continues live: nothing repeated, nothing missed', async () => {
    const first = connect('&events=visits');
    await started(first);
    await visits(2);
    const seen = await untilVisits(first, 2);
    first.close();
    await first.closed;
    const missed = await visits(3);
    const again = connect(`&events=visits&since=${seen[1]!.id}`);
    expect((await untilVisits(again, 3)).map((e) => e.id)).toEqual(missed);
    expect(resetsOf(again)).toEqual([]);
    const live = await visits(1);
    expect((await untilVisits(again, 4)).map((e) => e.id)).toEqual([...missed, ...live]);
    // Resuming at the head replays nothing and goes live.
    const atHead = connect(`&events=visits&since=${live[0]}`);
    const next = await visits(1);
    expect((await untilVisits(atHead, 1)).map((e) => e.id)).toEqual(next);
    expect(resetsOf(atHead)).toEqual([]);
  });

  it('replays from the stream what is older than the gateway memory, paced by the socket, then live', async () => {
    const first = connect('&events=visits');
    await started(first);
    const [from] = await visits(1);
    await untilVisits(first, 1);
    // More than the 1000 events a site keeps in memory: the replay reads the stream.
    const older = await visits(1200);
    const client = connect(`&events=visits&since=${from}`);
    const replayed = await untilVisits(client, 1200, 30_000);
    expect(replayed.map((e) => e.id)).toEqual(older);
    const live = await visits(2);
    expect((await untilVisits(client, 1202)).slice(1200).map((e) => e.id)).toEqual(live);
    expect(resetsOf(client)).toEqual([]);
  });

  it('an unknown since gets one since-unknown reset naming where live events continue', async () => {
    const client = connect('&events=visits&since=1000-0');
    const reset = await started(client);
    expect(reset).toMatchObject({ reason: 'since-unknown', site: 1 });
    const ids = await visits(1);
    expect((await untilVisits(client, 1)).map((e) => e.id)).toEqual(ids);
    expect(compareStreamIds(reset.id, ids[0]!)).toBeLessThan(0);
  });

  it('rewind=N starts with the N latest retained events after a start reset', async () => {
    const latest = await visits(3);
    const client = connect('&events=visits&rewind=3');
    const replayed = await untilVisits(client, 3);
    expect(replayed.map((e) => e.id)).toEqual(latest);
    const messages = eventsOf(client);
    expect(messages[0]).toMatchObject({ type: 'events_reset', reason: 'start' });
    expect(messages.slice(1).map((m: EventMessage) => m.id)).toEqual(latest);
  });

  it("passes on the poller's gap reset (events lost upstream) in stream order", async () => {
    const client = connect('&events=visits');
    await started(client);
    const ids = await append([
      { kind: 'reset', data: JSON.stringify('gap') },
      { kind: 'visit', data: JSON.stringify(visit(nextVisit++)) },
    ]);
    await untilVisits(client, 1);
    expect(eventsOf(client).slice(1)).toEqual([
      { type: 'events_reset', site: 1, id: ids[0], reason: 'gap' },
      expect.objectContaining({ type: 'visit', id: ids[1] }),
    ]);
  });

  it.each([
    ['&events=visits&since=yesterday', 'Policy violation: since is not a stream id'],
    ['&events=visits&since=1-2-3', 'Policy violation: since is not a stream id'],
    ['&events=pageviews', 'Policy violation: unknown events "pageviews"'],
    ['&events=visits&rewind=0', 'Policy violation: rewind must be 1…10000'],
  ])('closes %s with 1008 and says why', async (query, reason) => {
    const client = connect(query);
    expect(await client.closed).toEqual({ code: 1008, reason });
  });

  it('ignores since= and rewind= without events=, as before events existed', async () => {
    const client = connect('&since=yesterday&rewind=abc');
    await client.nextMessages(1);
    await visits(1);
    await client.until(() => false, 'no events', 300).catch(() => undefined);
    expect(eventsOf(client)).toEqual([]);
    expect(client.closeCode).toBeUndefined();
  });

  it('closes a client that does not read its events with 4005 instead of queueing without end', async () => {
    const small = await startGateway(
      gatewayConfigFrom({ VALID_TOKENS: TOKEN, PORT: '0', HOST: '127.0.0.1', DASHBOARD_DIR: 'off', SEND_BUFFER_LIMIT: '65536' }),
      { feed: bus },
    );
    try {
      const stuck = connect('&events=visits', small.url);
      const reader = connect('&events=visits', small.url);
      await started(stuck);
      await started(reader);
      // The client stops reading: its socket's buffers fill, then the gateway's.
      (stuck.ws as unknown as { _socket: { pause(): void } })._socket.pause();
      const slowCloses = async () => (await small.gateway.metrics.slowClientCloses.get()).values[0]?.value ?? 0;
      // One publish per turn of the event loop, as they come from Redis.
      for (let i = 0; i < 400 && (await slowCloses()) === 0; i++) {
        await visits(100);
        await new Promise((resolve) => setImmediate(resolve));
      }
      expect(await slowCloses()).toBe(1);
      // Reading again, it finds what was sent before the limit, then the close.
      (stuck.ws as unknown as { _socket: { resume(): void } })._socket.resume();
      expect(await stuck.closed).toMatchObject({ code: 4005 });
      // Others are not held up: the reader has every event.
      expect(visitsOf(reader).length).toBeGreaterThan(0);
      await reader.until(() => visitsOf(reader).at(-1)?.visit.idVisit === nextVisit - 1, 'every event for the reader', 15_000);
    } finally {
      await small.stop();
    }
  });

  it('refuses events=visits with 1008 on a gateway without an event source', async () => {
    const bare = await startGateway(gatewayConfigFrom({ VALID_TOKENS: TOKEN, PORT: '0', HOST: '127.0.0.1', DASHBOARD_DIR: 'off' }), {
      feed: new MemorySnapshotsWithoutEvents(),
    });
    try {
      const client = connect('&events=visits', bare.url);
      expect(await client.closed).toEqual({ code: 1008, reason: 'Policy violation: events unavailable' });
    } finally {
      await bare.stop();
    }
  });
});

/** A feed that is not the in-memory bus, so startGateway gives the gateway no EventSource. */
class MemorySnapshotsWithoutEvents implements SnapshotFeed {
  private readonly bus = new MemorySnapshots();
  subscribe = this.bus.subscribe.bind(this.bus);
  watchHeartbeat = this.bus.watchHeartbeat.bind(this.bus);
  isReady = this.bus.isReady.bind(this.bus);
  close = this.bus.close.bind(this.bus);
}
