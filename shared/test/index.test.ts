import * as shared from '../src/index';
import * as eventContracts from '../src/event-contracts';
import * as logger from '../src/logger';
import * as redisConnection from '../src/redis-connection';
import * as redisNames from '../src/redis-names';
import * as redisPubsub from '../src/redis-pubsub';
import * as shutdown from '../src/shutdown';
import * as siteTime from '../src/site-time';
import * as snapshotCodec from '../src/snapshot-codec';
import * as snapshotContracts from '../src/snapshot-contracts';

describe('@matomo-live/shared', () => {
  it.each(
    Object.entries({
      eventContracts,
      logger,
      redisConnection,
      redisNames,
      redisPubsub,
      shutdown,
      siteTime,
      snapshotCodec,
      snapshotContracts,
    }),
  )('re-exports everything %s exports', (_name, module) => {
    const names = Object.keys(module);
    expect(names.length).toBeGreaterThan(0);
    for (const name of names)
      expect([name, (shared as Record<string, unknown>)[name]]).toEqual([name, (module as Record<string, unknown>)[name]]);
  });
});
