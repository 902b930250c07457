import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type Redis from 'ioredis';
import { redisNames } from '@matomo-live/shared';

/** Leadership per site: one active poller per site across replicas. */
export interface LeaseManager {
  /** This process's owner id, stored in the lease key and checked when publishing (fencing). */
  readonly owner: string;
  /** How long a lease lasts unless renewed, ms. */
  readonly ttlMs: number;
  /** Takes the site's lease if free, renews it if ours; true while this process holds it. */
  acquire(siteId: number): Promise<boolean>;
  /** Gives the lease up if ours (a standby takes over at its next try). */
  release(siteId: number): Promise<void>;
}

/** Renew only our own lease: PEXPIRE if the value is still our owner id. */
const RENEW_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`;

/** Delete only our own lease. */
const RELEASE_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`;

/**
 * Leases as Redis keys: SET NX PX to take, compare-and-pexpire to renew,
 * compare-and-delete to release. A lease whose key vanished (Redis restarted
 * empty) is taken back at once by the next acquire().
 */
export class RedisLeaseManager implements LeaseManager {
  readonly owner: string;

  /**
   * @param ttlMs lease length, ms (LEASE_TTL, default 5000)
   * @param prefix key prefix. Default "matomo-live:".
   * @param owner owner id. Default host:pid:random.
   */
  constructor(
    private readonly redis: Redis,
    readonly ttlMs: number,
    private readonly prefix = 'matomo-live:',
    owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`,
  ) {
    this.owner = owner;
  }

  async acquire(siteId: number): Promise<boolean> {
    const key = redisNames(this.prefix, siteId).leaseKey;
    const renewed = await this.redis.eval(RENEW_LUA, 1, key, this.owner, String(this.ttlMs));
    if (renewed === 1) return true;
    return (await this.redis.set(key, this.owner, 'PX', this.ttlMs, 'NX')) === 'OK';
  }

  async release(siteId: number): Promise<void> {
    await this.redis.eval(RELEASE_LUA, 1, redisNames(this.prefix, siteId).leaseKey, this.owner);
  }
}
