import { decodeSnapshot, type SnapshotContent } from '@matomo-live/protocol';
import { contentDigest, encodeSnapshot, redisNames } from '@matomo-live/shared';
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
    expect(await publisher.publish(1, req)).toEqual({ kind: 'published', seq: 1_700_000_000_000 });
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
    expect(await publisher.publish(1, request(content('B'), 501))).toEqual({ kind: 'published', seq: 501 });
  });

  it('publishes again when the key vanished (Redis restarted empty) even with the same digest', async () => {
    await publisher.publish(1, request(content('A'), 10));
    await watch.command.del(redisNames(watch.prefix, 1).snapshotKey);
    expect(await publisher.publish(1, request(content('A'), 11))).toEqual({ kind: 'published', seq: 11 });
  });

  it('fences: only the lease owner may publish', async () => {
    const names = redisNames(watch.prefix, 1);
    await watch.command.set(names.leaseKey, 'owner-a', 'PX', 10_000);
    expect(await publisher.publish(1, request(content('A'), 1, 'owner-b'))).toEqual({ kind: 'not-leader' });
    expect(await watch.command.exists(names.snapshotKey)).toBe(0);
    expect(await publisher.publish(1, request(content('A'), 1, 'owner-a'))).toEqual({ kind: 'published', seq: 1 });
  });

  it('readState is null when nothing is stored', async () => {
    expect(await publisher.readState(1)).toBeNull();
  });
});
