import { redisNames } from '@matomo-live/shared';
import { RedisLeaseManager } from '../src/redis-lease';
import { watchRedis, type RedisWatch } from './support/harness';

let watch: RedisWatch;
let a: RedisLeaseManager;
let b: RedisLeaseManager;

beforeEach(async () => {
  watch = await watchRedis([1]);
  a = new RedisLeaseManager(watch.command, 5000, watch.prefix, 'owner-a');
  b = new RedisLeaseManager(watch.command, 5000, watch.prefix, 'owner-b');
});
afterEach(() => watch.close());

const leaseKey = () => redisNames(watch.prefix, 1).leaseKey;

describe('RedisLeaseManager', () => {
  it('gives a free lease to one owner only, with a TTL', async () => {
    expect(await a.acquire(1)).toBe(true);
    expect(await b.acquire(1)).toBe(false);
    expect(await watch.command.get(leaseKey())).toBe('owner-a');
    const ttl = await watch.command.pttl(leaseKey());
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(5000);
  });

  it('renews its own lease', async () => {
    await a.acquire(1);
    await watch.command.pexpire(leaseKey(), 100);
    expect(await a.acquire(1)).toBe(true);
    expect(await watch.command.pttl(leaseKey())).toBeGreaterThan(1000);
  });

  it('releases only its own lease', async () => {
    await a.acquire(1);
    await b.release(1);
    expect(await watch.command.get(leaseKey())).toBe('owner-a');
    await a.release(1);
    expect(await watch.command.exists(leaseKey())).toBe(0);
    expect(await b.acquire(1)).toBe(true);
  });

  it('takes its lease back at once when the key vanished', async () => {
    await a.acquire(1);
    await watch.command.del(leaseKey());
    expect(await a.acquire(1)).toBe(true);
  });

  it('has a distinct default owner per instance', () => {
    expect(new RedisLeaseManager(watch.command, 1000).owner).not.toBe(new RedisLeaseManager(watch.command, 1000).owner);
  });
});
