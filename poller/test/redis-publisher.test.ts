import { createHash } from 'node:crypto';
import { decodeSnapshot, type SnapshotContent } from '@matomo-live/protocol';
import {
  contentDigest,
  createRedisClient,
  encodeHeartbeat,
  encodeSnapshot,
  RedisChannelSubscriber,
  redisNames,
  siteIdOfChannel,
  siteIdOfEventsChannel,
  siteIdOfHeartbeatChannel,
  type EventsWrite,
  type RedisClient,
} from '@matomo-live/shared';
import { silentLogger } from '@matomo-live/test-support/logger';
import { describeWithRedisHa, startCluster, stopAllRedisProcesses, type TestCluster } from '@matomo-live/test-support/redis-ha';
import Redis from 'ioredis';
import { RedisLeaseManager } from '../src/redis-lease';
import { RedisSnapshotPublisher } from '../src/redis-publisher';
import { waitFor, watchRedis, type RedisWatch } from './support/harness';

const content = (city: string): SnapshotContent => ({
  visits_live: [],
  summary: {
    today: {
      visits: 1,
      time_spent: '00:00:10',
      date: '2024-07-04',
      time_spent_seconds: 10,
      actions: 1,
      unique_visitors: 1,
      bounce_count: 1,
    },
    yesterday: {
      visits: 0,
      time_spent: '00:00:00',
      date: '2024-07-03',
      time_spent_seconds: 0,
      actions: 0,
      unique_visitors: 0,
      bounce_count: 0,
    },
    day_before: {
      visits: 0,
      time_spent: '00:00:00',
      date: '2024-07-02',
      time_spent_seconds: 0,
      actions: 0,
      unique_visitors: 0,
      bounce_count: 0,
    },
  },
  counters: null,
  site: 1,
  timezone: city,
});

function request(c: SnapshotContent, seq: number, leaseOwner?: string) {
  return { digest: contentDigest(c), seq, bytes: encodeSnapshot(c, seq, new Date(seq)), leaseOwner };
}

const describeHa = describeWithRedisHa('the Redis Cluster tests of the publisher');

let watch: RedisWatch;
let publisher: RedisSnapshotPublisher;

beforeEach(async () => {
  watch = await watchRedis([1]);
  publisher = new RedisSnapshotPublisher(watch.command, watch.prefix);
});
afterEach(() => watch.close());

describe('RedisSnapshotPublisher', () => {
  it('stores and publishes the same bytes once, and records digest and seq', async () => {
    const req = request(content('A'), 1_700_000_000_000);
    expect(await publisher.publish(1, req)).toEqual({ kind: 'published', seq: 1_700_000_000_000, receivers: 1 });
    const names = redisNames(watch.prefix, 1);
    expect(await watch.command.getBuffer(names.snapshotKey)).toEqual(req.bytes);
    await waitFor(() => watch.messages().length === 1, 'the message');
    expect(watch.messages()[0]).toEqual(req.bytes);
    expect(await publisher.readState(1)).toEqual({ digest: req.digest, seq: 1_700_000_000_000 });
    const decoded = decodeSnapshot(watch.messages()[0]!);
    expect('snapshot' in decoded && decoded.header).toEqual({ site: 1, seq: 1_700_000_000_000 });
  });

  it('does nothing for the same digest, even with a higher seq', async () => {
    await publisher.publish(1, request(content('A'), 100));
    expect(await publisher.publish(1, request(content('A'), 200))).toEqual({ kind: 'unchanged', seq: 100 });
    await publisher.publish(1, request(content('B'), 300));
    await waitFor(() => watch.messages().length === 2, 'the second change');
    expect(
      watch
        .messages()
        .map((m) => decodeSnapshot(m))
        .map((d) => ('snapshot' in d ? d.snapshot.timezone : d.error)),
    ).toEqual(['A', 'B']);
  });

  it('refuses a seq that does not grow and says which one is stored', async () => {
    await publisher.publish(1, request(content('A'), 500));
    expect(await publisher.publish(1, request(content('B'), 500))).toEqual({ kind: 'seq-behind', storedSeq: 500 });
    expect(await publisher.publish(1, request(content('B'), 501))).toEqual({ kind: 'published', seq: 501, receivers: 1 });
  });

  it('publishes again when the key vanished (Redis restarted empty) even with the same digest', async () => {
    await publisher.publish(1, request(content('A'), 10));
    await watch.command.del(redisNames(watch.prefix, 1).snapshotKey);
    expect(await publisher.publish(1, request(content('A'), 11))).toEqual({ kind: 'published', seq: 11, receivers: 1 });
  });

  it('publishes again, same digest, when the stored state was rolled back or lost (a failover dropped acknowledged writes)', async () => {
    const names = redisNames(watch.prefix, 1);
    await publisher.publish(1, request(content('A'), 10));
    const old = await watch.command.getBuffer(names.snapshotKey);
    await publisher.publish(1, request(content('B'), 20));
    // What a promoted replica that missed the last write holds: the previous snapshot and state.
    await watch.command
      .multi()
      .set(names.snapshotKey, old!)
      .hset(names.stateKey, 'digest', contentDigest(content('A')), 'seq', '10', 'sha', createHash('sha1').update(old!).digest('hex'))
      .exec();
    // Without knownSeq the digest matches the rolled-back state: nothing would be republished.
    expect(await publisher.publish(1, request(content('A'), 30))).toEqual({ kind: 'unchanged', seq: 10 });
    // The poller passes the seq it saw stored (20): the rollback is noticed and the content published over it.
    expect(await publisher.publish(1, { ...request(content('A'), 30), knownSeq: 20 })).toEqual({
      kind: 'published',
      seq: 30,
      receivers: 1,
    });
    expect(await publisher.readState(1)).toEqual({ digest: contentDigest(content('A')), seq: 30 });
    await waitFor(() => watch.messages().length === 3, 'the republished snapshot');
    // And when the state hash was lost entirely.
    await watch.command.del(names.stateKey);
    expect(await publisher.publish(1, { ...request(content('A'), 40), knownSeq: 30 })).toMatchObject({ kind: 'published', seq: 40 });
  });

  it.each(['9007199254740991', '999999999999999', '1000000000000000', '-5', 'abc', 'inf', 'nan', '1e300', ''])(
    'overwrites a poisoned stored seq %j instead of waiting behind it, and says so',
    async (poison) => {
      const names = redisNames(watch.prefix, 1);
      await publisher.publish(1, request(content('A'), 1_700_000_000_000));
      await watch.command.hset(names.stateKey, 'seq', poison);
      expect(await publisher.publish(1, request(content('A'), 1_700_000_000_001))).toEqual({
        kind: 'published',
        seq: 1_700_000_000_001,
        receivers: 1,
        corrupt: 'seq',
      });
      expect(await publisher.readState(1)).toEqual({ digest: contentDigest(content('A')), seq: 1_700_000_000_001 });
      expect(await publisher.publish(1, request(content('A'), 1_700_000_000_002))).toEqual({ kind: 'unchanged', seq: 1_700_000_000_001 });
    },
  );

  it('overwrites a snapshot key that is not the one published (cut, or written by someone else), same digest', async () => {
    const names = redisNames(watch.prefix, 1);
    const first = request(content('A'), 100);
    await publisher.publish(1, first);
    await watch.command.set(names.snapshotKey, first.bytes.subarray(0, 20));
    expect(await publisher.publish(1, request(content('A'), 101))).toEqual({
      kind: 'published',
      seq: 101,
      receivers: 1,
      corrupt: 'snapshot',
    });
    expect(decodeSnapshot((await watch.command.getBuffer(names.snapshotKey))!)).toMatchObject({ header: { site: 1, seq: 101 } });
    expect(await publisher.publish(1, request(content('A'), 102))).toEqual({ kind: 'unchanged', seq: 101 });
  });

  it('publishes with SPUBLISH when told (Cluster mode) and reports how many subscribers got it', async () => {
    const sharded = new RedisSnapshotPublisher(watch.command, watch.prefix, 'SPUBLISH');
    const names = redisNames(watch.prefix, 1);
    const subscriber = new Redis(watch.url);
    try {
      const got: Buffer[] = [];
      subscriber.on('smessageBuffer', (_channel: Buffer, message: Buffer) => got.push(message));
      await subscriber.ssubscribe(names.snapshotChannel);
      const req = request(content('S'), 5);
      expect(await sharded.publish(1, req)).toEqual({ kind: 'published', seq: 5, receivers: 1 });
      await waitFor(() => got.length === 1, 'the sharded message');
      expect(got[0]).toEqual(req.bytes);
      // Classic subscribers are another namespace: the watch's SUBSCRIBE got nothing.
      expect(watch.messages()).toEqual([]);
    } finally {
      subscriber.disconnect();
    }
  });

  it('fences: only the lease owner may publish', async () => {
    const names = redisNames(watch.prefix, 1);
    await watch.command.set(names.leaseKey, 'owner-a', 'PX', 10_000);
    expect(await publisher.publish(1, request(content('A'), 1, 'owner-b'))).toEqual({ kind: 'not-leader' });
    expect(await watch.command.exists(names.snapshotKey)).toBe(0);
    expect(await publisher.publish(1, request(content('A'), 1, 'owner-a'))).toEqual({ kind: 'published', seq: 1, receivers: 1 });
  });

  it('readState is null when nothing is stored', async () => {
    expect(await publisher.readState(1)).toBeNull();
  });
});

describe('RedisSnapshotPublisher: heartbeats', () => {
  const heartbeat = (site: number) => encodeHeartbeat({ site, fetch_interval_ms: 5000, data_age_ms: 1200, trouble: null });

  it.each(['PUBLISH', 'SPUBLISH'] as const)(
    'stores the heartbeat with a TTL of at most ttlMs and %ses the same bytes on its channel',
    async (command) => {
      const names = redisNames(watch.prefix, 1);
      const subscriber = new Redis(watch.url);
      try {
        const got: Buffer[] = [];
        subscriber.on(command === 'SPUBLISH' ? 'smessageBuffer' : 'messageBuffer', (channel: Buffer, message: Buffer) => {
          if (channel.toString() === names.heartbeatChannel) got.push(message);
        });
        if (command === 'SPUBLISH') await subscriber.ssubscribe(names.heartbeatChannel);
        else await subscriber.subscribe(names.heartbeatChannel);
        const bytes = heartbeat(1);
        await new RedisSnapshotPublisher(watch.command, watch.prefix, command).publishHeartbeat(1, bytes, 15_000);
        await waitFor(() => got.length === 1, 'the heartbeat');
        expect(got[0]).toEqual(bytes);
        expect(await watch.command.getBuffer(names.heartbeatKey)).toEqual(bytes);
        const ttl = await watch.command.pttl(names.heartbeatKey);
        expect(ttl).toBeGreaterThan(14_000);
        expect(ttl).toBeLessThanOrEqual(15_000);
        // Nothing on the snapshot channel, nor in the snapshot's keys.
        expect(watch.messages()).toEqual([]);
        expect(await watch.command.exists(names.snapshotKey, names.stateKey)).toBe(0);
      } finally {
        subscriber.disconnect();
      }
    },
  );

  it('a newer heartbeat replaces the stored one and its TTL; the key expires on its own', async () => {
    const names = redisNames(watch.prefix, 1);
    await publisher.publishHeartbeat(1, heartbeat(1), 60_000);
    const newer = encodeHeartbeat({ site: 1, fetch_interval_ms: 5000, data_age_ms: null, trouble: 'auth_refused' });
    await publisher.publishHeartbeat(1, newer, 50);
    expect(await watch.command.getBuffer(names.heartbeatKey)).toEqual(newer);
    expect(await watch.command.pttl(names.heartbeatKey)).toBeLessThanOrEqual(50);
    await waitFor(async () => (await watch.command.exists(names.heartbeatKey)) === 0, 'the key to expire');
  });
});

/** An events write as the poller makes it: visits with these cities, the cursor moved to `after`. */
function eventsWrite(expectedVersion: number, cities: string[], after = 100, extra: Partial<EventsWrite> = {}): EventsWrite {
  return {
    entries: cities.map((city, i) => ({ kind: 'visit', data: JSON.stringify({ city, idVisit: i + 1 }) })),
    cursor: { expectedVersion, after, offset: 0, set: cities.map((_, i) => [i + 1, `1:${after + 1}`]), forget: [] },
    retentionMs: 1_800_000,
    maxLen: 10_000,
    ...extra,
  };
}

type StreamEntries = Array<[string, string[]]>;

describe('RedisSnapshotPublisher: visit events', () => {
  let events: Redis;
  const announced: Array<{ site: number; events: Array<{ id: string; prev: string; kind: string; data: { city: string } }> }> = [];

  beforeEach(async () => {
    announced.length = 0;
    events = new Redis(watch.url);
    events.on('message', (_channel: string, message: string) => announced.push(JSON.parse(message) as (typeof announced)[number]));
    await events.subscribe(redisNames(watch.prefix, 1).eventsChannel);
  });
  afterEach(() => events.disconnect());

  const stream = async () => (await watch.command.xrange(redisNames(watch.prefix, 1).eventsKey, '-', '+')) as StreamEntries;
  const field = (entry: [string, string[]], name: string) => entry[1][entry[1].indexOf(name) + 1];

  it('appends the events chained by prev, moves the cursor and announces them, with the snapshot', async () => {
    const names = redisNames(watch.prefix, 1);
    const first = await publisher.publish(1, { ...request(content('A'), 10), events: eventsWrite(0, ['Paris', 'Lyon']) });
    expect(first).toMatchObject({
      kind: 'published',
      seq: 10,
      events: { cursorVersion: 1, ids: [expect.any(String), expect.any(String)] },
    });
    const ids = (first as { events: { ids: string[] } }).events.ids;
    const entries = await stream();
    expect(entries.map(([id]) => id)).toEqual(ids);
    expect(entries.map((e) => [field(e, 'prev'), field(e, 'kind'), JSON.parse(field(e, 'data')!).city])).toEqual([
      ['0-0', 'visit', 'Paris'],
      [ids[0], 'visit', 'Lyon'],
    ]);
    expect(await watch.command.hget(names.stateKey, 'events_last')).toBe(ids[1]);
    expect(await publisher.readCursor(1)).toEqual({
      after: 100,
      offset: 0,
      version: 1,
      seen: [
        [1, '1:101'],
        [2, '1:101'],
      ],
    });
    await waitFor(() => announced.length === 1, 'the events message');
    expect(announced[0]).toEqual({
      site: 1,
      events: [
        { id: ids[0], prev: '0-0', kind: 'visit', data: { city: 'Paris', idVisit: 1 } },
        { id: ids[1], prev: ids[0], kind: 'visit', data: { city: 'Lyon', idVisit: 2 } },
      ],
    });
    // The next write continues the chain, forgets what it is told to.
    const next = await publisher.publish(1, {
      ...request(content('B'), 11),
      events: { ...eventsWrite(1, ['Nice'], 200), cursor: { expectedVersion: 1, after: 200, offset: 0, set: [], forget: [1] } },
    });
    expect(next).toMatchObject({ kind: 'published', events: { cursorVersion: 2 } });
    expect(field((await stream())[2]!, 'prev')).toBe(ids[1]);
    expect(await publisher.readCursor(1)).toEqual({ after: 200, offset: 0, version: 2, seen: [[2, '1:101']] });
  });

  it('writes the events when the snapshot did not change, and nothing at all when the seq is behind or the cursor stale', async () => {
    await publisher.publish(1, request(content('A'), 10));
    expect(await publisher.publish(1, { ...request(content('A'), 11), events: eventsWrite(0, ['Paris']) })).toMatchObject({
      kind: 'unchanged',
      seq: 10,
      events: { cursorVersion: 1, ids: [expect.any(String)] },
    });
    expect(await publisher.publish(1, { ...request(content('B'), 10), events: eventsWrite(1, ['Lost']) })).toEqual({
      kind: 'seq-behind',
      storedSeq: 10,
    });
    // A cursor version other than the stored one (a failover rolled it back, another poller wrote it): nothing written.
    expect(await publisher.publish(1, { ...request(content('B'), 12), events: eventsWrite(0, ['Twice']) })).toEqual({
      kind: 'cursor-stale',
      version: 1,
    });
    expect((await stream()).map((e) => JSON.parse(field(e, 'data')!).city)).toEqual(['Paris']);
    expect(await publisher.readState(1)).toMatchObject({ seq: 10 });
  });

  it('moves the cursor without events, and trims the stream to the retention and the length cap', async () => {
    expect(await publisher.publish(1, { ...request(content('A'), 10), events: eventsWrite(0, [], 300) })).toMatchObject({
      events: { ids: [], cursorVersion: 1 },
    });
    expect(await stream()).toEqual([]);
    expect(await publisher.readCursor(1)).toMatchObject({ after: 300, version: 1 });
    // An entry older than the retention (by its id's time) goes with the next write.
    const names = redisNames(watch.prefix, 1);
    await watch.command.xadd(names.eventsKey, `${Date.now() - 3_600_000}-0`, 'prev', '0-0', 'kind', 'visit', 'data', '{}');
    await publisher.publish(1, { ...request(content('A'), 11), events: eventsWrite(1, ['Fresh'], 301, { retentionMs: 60_000 }) });
    expect((await stream()).map((e) => JSON.parse(field(e, 'data')!).city ?? null)).toEqual(['Fresh']);
    // MAXLEN ~ keeps at least the cap (whole 100-entry nodes go).
    for (let i = 0; i < 4; i++) {
      const cities = Array.from({ length: 100 }, (_, k) => `c${i}-${k}`);
      await publisher.publish(1, { ...request(content('A'), 12 + i), events: eventsWrite(2 + i, cities, 400 + i, { maxLen: 150 }) });
    }
    const length = await watch.command.xlen(names.eventsKey);
    expect(length).toBeGreaterThanOrEqual(150);
    expect(length).toBeLessThanOrEqual(300);
  });

  it('stores the history mark of a cursor restarted after a loss, and forgets it once the cursor is past it', async () => {
    const marked = eventsWrite(0, ['Old'], 100);
    await publisher.publish(1, { ...request(content('A'), 10), events: { ...marked, cursor: { ...marked.cursor, historyUntil: 150 } } });
    expect(await publisher.readCursor(1)).toMatchObject({ after: 100, version: 1, historyUntil: 150 });
    await publisher.publish(1, { ...request(content('A'), 11), events: eventsWrite(1, ['New'], 160) });
    expect(await publisher.readCursor(1)).not.toHaveProperty('historyUntil');
  });

  it('notices a cursor lost with Redis even on a tick without events: cursor-stale, nothing written', async () => {
    await publisher.publish(1, { ...request(content('A'), 10), events: eventsWrite(0, ['One'], 100) });
    expect(await publisher.publish(1, { ...request(content('A'), 11), cursorVersion: 1 })).toMatchObject({ kind: 'unchanged' });
    await watch.command.del(redisNames(watch.prefix, 1).cursorKey);
    expect(await publisher.publish(1, { ...request(content('B'), 12), cursorVersion: 1 })).toEqual({ kind: 'cursor-stale', version: 0 });
    expect(await publisher.readState(1)).toMatchObject({ seq: 10 });
    // Without a held cursor (events off, or not loaded yet) nothing is checked.
    expect(await publisher.publish(1, request(content('B'), 13))).toMatchObject({ kind: 'published', seq: 13 });
  });

  it('readCursor is null when no cursor was written', async () => {
    expect(await publisher.readCursor(1)).toBeNull();
  });
});

describeHa('RedisSnapshotPublisher and RedisLeaseManager in a Redis Cluster', () => {
  let cluster: TestCluster;
  let client: RedisClient;
  let subscriber: RedisChannelSubscriber;
  const prefix = 'matomo-live:';
  const sites = [1, 2, 3, 4, 5, 6];
  const received = new Map<number, Buffer[]>();

  beforeAll(async () => {
    cluster = await startCluster({ create: 'commands' });
    client = createRedisClient(cluster.connection, 'poller', { logger: silentLogger });
    subscriber = new RedisChannelSubscriber(createRedisClient(cluster.connection, 'gateway-subscriber', { logger: silentLogger }));
    subscriber.onMessage((channel, message) => {
      const site = siteIdOfChannel(prefix, channel)!;
      received.set(site, [...(received.get(site) ?? []), message]);
    });
    for (const site of sites) await subscriber.subscribe(redisNames(prefix, site).snapshotChannel);
    await waitFor(() => client.status === 'ready', 'the poller connection');
  }, 60_000);
  afterAll(async () => {
    subscriber?.close();
    subscriber?.client.disconnect();
    client?.disconnect();
    await cluster?.stop();
    await stopAllRedisProcesses();
  });

  it('keeps every key and the channel of a site in one slot, and sites on several masters', async () => {
    const masters = new Set<number>();
    for (const site of sites) {
      const n = redisNames(prefix, site);
      const slots = await Promise.all([n.snapshotKey, n.stateKey, n.leaseKey, n.snapshotChannel].map((k) => cluster.slotOf(k)));
      expect(new Set(slots).size).toBe(1);
      masters.add((await cluster.masterOf(slots[0]!)).port);
    }
    expect(masters.size).toBeGreaterThan(1);
  });

  it('runs the fenced publish script on the slot owner and SPUBLISHes to its shard', async () => {
    const publisher = new RedisSnapshotPublisher(client, prefix, 'SPUBLISH');
    const leases = new RedisLeaseManager(client, 10_000, prefix, 'cluster-owner');
    for (const site of sites) {
      expect(await leases.acquire(site)).toBe(true);
      const req = { ...request({ ...content(`site ${site}`), site }, 1000 + site), leaseOwner: leases.owner };
      expect(await publisher.publish(site, req)).toEqual({ kind: 'published', seq: 1000 + site, receivers: 1 });
      expect(await publisher.publish(site, { ...req, seq: 2000 })).toEqual({ kind: 'unchanged', seq: 1000 + site });
      expect(await publisher.publish(site, { ...req, leaseOwner: 'someone-else', digest: 'other' })).toEqual({ kind: 'not-leader' });
      expect(await publisher.readState(site)).toEqual({ digest: req.digest, seq: 1000 + site });
    }
    await waitFor(() => sites.every((site) => received.get(site)?.length === 1), 'one message per site');
    for (const site of sites) expect(decodeSnapshot(received.get(site)![0]!)).toMatchObject({ header: { site, seq: 1000 + site } });
    for (const site of sites) await leases.release(site);
  });

  it("stores each site's heartbeat in its slot and SPUBLISHes it to its shard", async () => {
    const publisher = new RedisSnapshotPublisher(client, prefix, 'SPUBLISH');
    const heard = new Map<number, Buffer[]>();
    subscriber.onMessage((channel, message) => {
      const site = siteIdOfHeartbeatChannel(prefix, channel);
      if (site !== undefined) heard.set(site, [...(heard.get(site) ?? []), message]);
    });
    for (const site of sites) {
      const n = redisNames(prefix, site);
      expect(new Set(await Promise.all([n.snapshotKey, n.heartbeatKey, n.heartbeatChannel].map((k) => cluster.slotOf(k)))).size).toBe(1);
      await subscriber.subscribe(n.heartbeatChannel);
    }
    const bytes = (site: number) => encodeHeartbeat({ site, fetch_interval_ms: 1000, data_age_ms: 10, trouble: null });
    for (const site of sites) await publisher.publishHeartbeat(site, bytes(site), 15_000);
    await waitFor(() => sites.every((site) => heard.get(site)?.length === 1), 'one heartbeat per site');
    for (const site of sites) {
      expect(heard.get(site)![0]).toEqual(bytes(site));
      const key = redisNames(prefix, site).heartbeatKey;
      expect(await client.getBuffer(key)).toEqual(bytes(site));
      const ttl = await client.pttl(key);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(15_000);
    }
  });

  it("appends visit events in the site's slot with the snapshot, SPUBLISHes them to its shard, and reads them back", async () => {
    const publisher = new RedisSnapshotPublisher(client, prefix, 'SPUBLISH');
    const announced = new Map<number, string[]>();
    subscriber.onMessage((channel, message) => {
      const site = siteIdOfEventsChannel(prefix, channel);
      if (site !== undefined) announced.set(site, [...(announced.get(site) ?? []), message.toString()]);
    });
    for (const site of sites) {
      const n = redisNames(prefix, site);
      expect(
        new Set(await Promise.all([n.snapshotKey, n.eventsKey, n.cursorKey, n.eventsChannel].map((k) => cluster.slotOf(k)))).size,
      ).toBe(1);
      await subscriber.subscribe(n.eventsChannel);
    }
    for (const site of sites) {
      const outcome = await publisher.publish(site, {
        ...request({ ...content(`events ${site}`), site }, 5000 + site),
        events: eventsWrite(0, [`city ${site}`, `town ${site}`]),
      });
      expect(outcome).toMatchObject({ kind: 'published', events: { cursorVersion: 1, ids: [expect.any(String), expect.any(String)] } });
      const ids = (outcome as { events: { ids: string[] } }).events.ids;
      const entries = (await client.xrange(redisNames(prefix, site).eventsKey, '-', '+')) as StreamEntries;
      expect(entries.map(([id]) => id)).toEqual(ids);
      expect(await publisher.readCursor(site)).toMatchObject({ after: 100, version: 1 });
    }
    await waitFor(() => sites.every((site) => announced.get(site)?.length === 1), 'one events message per site');
    for (const site of sites) expect(JSON.parse(announced.get(site)![0]!)).toMatchObject({ site, events: [{ prev: '0-0' }, {}] });
  });
});
