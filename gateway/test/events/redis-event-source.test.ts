import { STREAM_START } from '@matomo-live/protocol';
import { redisNames, type StoredEvent } from '@matomo-live/shared';
import { redisScope, type RedisScope } from '@matomo-live/test-support/redis';
import { singleNode } from '@matomo-live/test-support/redis-ha';
import { capturedLogger } from '@matomo-live/test-support/logger';
import { waitFor } from '@matomo-live/test-support/wait-for';
import { createRedisClients } from '../../src/gateway-redis';
import { RedisEventSource } from '../../src/events/redis-event-source';

describe('RedisEventSource', () => {
  let scope: RedisScope;
  let clients: ReturnType<typeof createRedisClients>;
  let source: RedisEventSource;
  let log: ReturnType<typeof capturedLogger>;

  beforeEach(async () => {
    scope = await redisScope('event-source');
    log = capturedLogger();
    clients = createRedisClients(singleNode(scope.url), { logger: log.logger });
    source = new RedisEventSource({ ...clients, prefix: scope.prefix, logger: log.logger });
  });

  afterEach(async () => {
    await clients.close();
    await scope.close();
  });

  /** Appends entries the way the publish script does: each naming its predecessor. */
  async function append(siteId: number, data: string[], prev = STREAM_START): Promise<string[]> {
    const names = redisNames(scope.prefix, siteId);
    const ids: string[] = [];
    for (const d of data) {
      const id = (await scope.command.xadd(names.eventsKey, '*', 'prev', prev, 'kind', 'visit', 'data', d)) as string;
      ids.push(id);
      prev = id;
    }
    await scope.command.hset(names.stateKey, 'events_last', prev);
    return ids;
  }

  it('reads ranges after an id (exclusive), the latest entries, and the last id', async () => {
    expect(await source.lastId(1)).toBe(STREAM_START);
    const ids = await append(1, ['"a"', '"b"', '"c"']);
    expect((await source.range(1, STREAM_START, 10)).map((e) => e.data)).toEqual(['"a"', '"b"', '"c"']);
    const after = await source.range(1, ids[0]!, 1);
    expect(after).toEqual([{ id: ids[1], prev: ids[0], kind: 'visit', data: '"b"' }]);
    expect((await source.latest(1, 2)).map((e) => e.id)).toEqual(ids.slice(1));
    expect(await source.lastId(1)).toBe(ids[2]);
  });

  it('skips and logs a stream entry that is not ours', async () => {
    const names = redisNames(scope.prefix, 2);
    await append(2, ['"ok"']);
    await scope.command.xadd(names.eventsKey, '*', 'unrelated', 'field');
    expect((await source.range(2, STREAM_START, 10)).map((e) => e.data)).toEqual(['"ok"']);
    expect(log.text()).toContain('ignoring a malformed event stream entry');
  });

  it('delivers the events channel’s messages while subscribed, ignores malformed ones, and stops after unsubscribe', async () => {
    const channel = redisNames(scope.prefix, 3).eventsChannel;
    const batches: StoredEvent[][] = [];
    await source.subscribe(3, (events) => batches.push(events));
    await scope.command.publish(channel, 'not json');
    await scope.command.publish(channel, JSON.stringify({ site: 3, events: [{ id: '1-0', prev: '0-0', kind: 'nope', data: {} }] }));
    await scope.command.publish(
      channel,
      JSON.stringify({ site: 3, events: [{ id: '1-1', prev: '0-0', kind: 'visit', data: { idVisit: 9 } }] }),
    );
    await waitFor(() => batches.length > 0, 'the well-formed events message');
    expect(batches).toEqual([[{ id: '1-1', prev: '0-0', kind: 'visit', data: '{"idVisit":9}' }]]);
    expect(log.text()).toContain('ignoring an events message that is not JSON');
    expect(log.text()).toContain('ignoring a malformed events message');
    await source.unsubscribe(3);
    await waitFor(async () => ((await scope.command.pubsub('NUMSUB', channel)) as [string, number])[1] === 0, 'the channel unsubscribed');
  });
});
