import { redisKeyPattern, redisNames, siteIdOfChannel, siteIdOfEventsChannel, siteIdOfHeartbeatChannel } from '../src/redis-names';

describe('redis names', () => {
  it('puts every key and channel of a site under one hash tag', () => {
    const names = redisNames('matomo-live:', 1);
    expect(names).toEqual({
      tag: '{matomo-live:site:1}',
      snapshotKey: '{matomo-live:site:1}:snapshot',
      snapshotChannel: '{matomo-live:site:1}:snapshot',
      stateKey: '{matomo-live:site:1}:state',
      leaseKey: '{matomo-live:site:1}:lease',
      eventsKey: '{matomo-live:site:1}:events',
      eventsChannel: '{matomo-live:site:1}:events',
      cursorKey: '{matomo-live:site:1}:cursor',
      heartbeatKey: '{matomo-live:site:1}:heartbeat',
      heartbeatChannel: '{matomo-live:site:1}:heartbeat',
    });
  });

  it('finds the site of its own channels and nothing else', () => {
    const names = redisNames('p:', 27);
    expect(siteIdOfChannel('p:', names.snapshotChannel)).toBe(27);
    expect(siteIdOfEventsChannel('p:', names.eventsChannel)).toBe(27);
    expect(siteIdOfChannel('p:', names.eventsChannel)).toBeUndefined();
    expect(siteIdOfEventsChannel('p:', names.snapshotChannel)).toBeUndefined();
    expect(siteIdOfHeartbeatChannel('p:', names.heartbeatChannel)).toBe(27);
    expect(siteIdOfHeartbeatChannel('p:', names.snapshotChannel)).toBeUndefined();
    expect(siteIdOfChannel('p:', names.heartbeatChannel)).toBeUndefined();
    expect(siteIdOfChannel('other:', names.snapshotChannel)).toBeUndefined();
    for (const bad of [
      '{p:site:0}:snapshot',
      '{p:site:-1}:snapshot',
      '{p:site:1x}:snapshot',
      '{p:site:}:snapshot',
      '{p:site:99999999999999999999}:snapshot',
    ]) {
      expect(siteIdOfChannel('p:', bad)).toBeUndefined();
    }
  });

  it('escapes glob characters of the prefix in the key pattern', () => {
    expect(redisKeyPattern('matomo-live:')).toBe('{matomo-live:site:*');
    expect(redisKeyPattern('a*b?[c]\\:')).toBe('{a\\*b\\?\\[c\\]\\\\:site:*');
  });
});
