import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { redisNames, type RedisClient } from '@matomo-live/shared';

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

/**
 * Take or keep a lease in one round trip: PEXPIRE if the value is our owner
 * id, SET PX if the key is free; 1 when we hold the lease afterwards, else 0.
 * KEYS: lease key. ARGV: owner, ttl ms.
 */
const ACQUIRE_LUA = `
local current = redis.call('GET', KEYS[1])
if current == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
if not current then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
`;

/** Delete only our own lease. KEYS: lease key. ARGV: owner. */
const RELEASE_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`;

type AcquireCommand = (leaseKey: string, owner: string, ttlMs: string) => Promise<number>;
type ReleaseCommand = (leaseKey: string, owner: string) => Promise<number>;

/** The scripts as commands of `redis` (EVALSHA, the text sent only when Redis lacks it), defined once per connection. */
function leaseCommands(redis: RedisClient): { acquire: AcquireCommand; release: ReleaseCommand } {
  const commands = redis as unknown as Record<string, AcquireCommand & ReleaseCommand>;
  if (!commands.matomoLiveLeaseAcquire) redis.defineCommand('matomoLiveLeaseAcquire', { numberOfKeys: 1, lua: ACQUIRE_LUA });
  if (!commands.matomoLiveLeaseRelease) redis.defineCommand('matomoLiveLeaseRelease', { numberOfKeys: 1, lua: RELEASE_LUA });
  return { acquire: commands.matomoLiveLeaseAcquire!.bind(redis), release: commands.matomoLiveLeaseRelease!.bind(redis) };
}

/**
 * Leases as Redis keys, one script call each: take-if-free-or-renew-if-ours
 * to acquire, compare-and-delete to release. A lease whose key vanished
 * (Redis restarted empty) is taken back at once by the next acquire().
 */
export class RedisLeaseManager implements LeaseManager {
  readonly owner: string;
  private readonly commands: { acquire: AcquireCommand; release: ReleaseCommand };

  /**
   * @param ttlMs lease length, ms (LEASE_TTL, default 5000)
   * @param prefix key prefix. Default "matomo-live:".
   * @param owner owner id. Default host:pid:random.
   */
  constructor(
    redis: RedisClient,
    readonly ttlMs: number,
    private readonly prefix = 'matomo-live:',
    owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`,
  ) {
    this.owner = owner;
    this.commands = leaseCommands(redis);
  }

  async acquire(siteId: number): Promise<boolean> {
    return (await this.commands.acquire(redisNames(this.prefix, siteId).leaseKey, this.owner, String(this.ttlMs))) === 1;
  }

  async release(siteId: number): Promise<void> {
    await this.commands.release(redisNames(this.prefix, siteId).leaseKey, this.owner);
  }
}
