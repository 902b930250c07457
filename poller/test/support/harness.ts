/** Real parts for poller tests: the simulator over HTTP, a real Redis with a private prefix, a hand-driven clock. */
import Redis from 'ioredis';
import { decodeHeartbeat, loadPollerConfig, redisNames, type PollerConfig, type SiteHeartbeat } from '@matomo-live/shared';
import type { PollerStatus } from '../../src/poller';
import type { MatomoSim } from '@matomo-live/matomo-sim';
import { redisScope, type RedisScope } from '@matomo-live/test-support/redis';
import { waitFor as waitForWithin } from '@matomo-live/test-support/wait-for';

export const SIM_TOKEN = 'poller-test-token-5f3a9c';

/** A PollerConfig through the real loader, pointed at `sim`, with short intervals. */
export function testConfig(sim: MatomoSim, redisUrl: string, prefix: string, env: Record<string, string> = {}): PollerConfig {
  return loadPollerConfig(
    {
      MATOMO_URL: sim.url,
      MATOMO_TOKEN: SIM_TOKEN,
      REDIS_URL: redisUrl,
      REDIS_PREFIX: prefix,
      FETCH_INTERVAL: '100',
      SUMMARY_INTERVAL: '60000',
      LEASE_TTL: '1000',
      POLLER_HEALTH_PORT: '0',
      MATOMO_TIMEOUT: '1000',
      ...env,
    },
    { dotenv: false },
  );
}

export interface RedisWatch extends RedisScope {
  /** Every message published on site `siteId`'s snapshot channel since watch() was called. */
  messages(siteId?: number): Buffer[];
  /** Every heartbeat published on site `siteId`'s heartbeat channel since watch() was called, decoded. */
  heartbeats(siteId?: number): SiteHeartbeat[];
}

/** A Redis scope on the shared test Redis, subscribed to the snapshot and heartbeat channels of `siteIds` under its prefix. */
export async function watchRedis(siteIds: number[] = [1]): Promise<RedisWatch> {
  const scope = await redisScope('poller');
  const { prefix } = scope;
  const subscriber = new Redis(scope.url);
  const received = new Map<number, Buffer[]>();
  const heartbeats = new Map<number, SiteHeartbeat[]>();
  for (const id of siteIds) {
    received.set(id, []);
    heartbeats.set(id, []);
  }
  const channels = new Map(siteIds.map((id) => [redisNames(prefix, id).snapshotChannel, id]));
  const heartbeatChannels = new Map(siteIds.map((id) => [redisNames(prefix, id).heartbeatChannel, id]));
  subscriber.on('messageBuffer', (channel: Buffer, message: Buffer) => {
    const id = channels.get(channel.toString());
    if (id !== undefined) received.get(id)!.push(message);
    const beatOf = heartbeatChannels.get(channel.toString());
    if (beatOf === undefined) return;
    // Bytes that are not a heartbeat are left out: a test waiting for one then fails saying which it waited for.
    const decoded = decodeHeartbeat(message);
    if ('heartbeat' in decoded) heartbeats.get(beatOf)!.push(decoded.heartbeat);
  });
  await subscriber.subscribe(...channels.keys(), ...heartbeatChannels.keys());
  return {
    ...scope,
    messages: (siteId = siteIds[0]!) => received.get(siteId)!,
    heartbeats: (siteId = siteIds[0]!) => heartbeats.get(siteId)!,
    async close() {
      subscriber.disconnect();
      await scope.close();
    },
  };
}

/**
 * What a poller shows once Matomo refuses its token (`token-refused`) or blocks
 * its IP (`ip-blocked`): unhealthy, the reason, the next attempt 5 minutes
 * away on `clock`, and the loud error line.
 */
export function expectAuthBlocked(
  poller: { status(): PollerStatus },
  clock: ManualClock,
  lines: () => Array<Record<string, unknown>>,
  reason: 'token-refused' | 'ip-blocked',
): void {
  expect(poller.status()).toMatchObject(
    reason === 'ip-blocked'
      ? {
          healthy: false,
          authBlocked: true,
          authBlockedReason: reason,
          lastError: { kind: 'auth-blocked', message: expect.stringContaining('Too many failed logins') },
        }
      : { healthy: false, authBlocked: true, authBlockedReason: reason, lastError: { kind: 'auth' } },
  );
  expect(clock.pendingDelays()).toEqual([300_000]);
  const loud = reason === 'ip-blocked' ? 'Matomo blocks this IP' : 'Matomo refuses the token';
  expect(lines().some((l) => l.level === 50 && String(l.msg).startsWith(loud))).toBe(true);
}

/** The shared waitFor with the poller suites' 15 s default. */
export const waitFor = <T>(condition: () => T | Promise<T>, what: string, timeoutMs = 15_000) => waitForWithin(condition, what, timeoutMs);

/**
 * A clock tests drive by hand: timers of at most `autoFireMs` run on their own
 * (real short timers), longer ones wait for advance(). now() moves only with advance().
 */
export class ManualClock {
  private time: number;
  private nextId = 0;
  private readonly held = new Map<number, { at: number; fn: () => void }>();
  private readonly real = new Map<number, NodeJS.Timeout>();

  constructor(
    start = Date.now(),
    private readonly autoFireMs = 0,
  ) {
    this.time = start;
  }

  now = (): number => this.time;

  setTimeout = (fn: () => void, ms: number): number => {
    const id = ++this.nextId;
    if (ms <= this.autoFireMs) {
      this.real.set(
        id,
        setTimeout(() => this.real.delete(id) && fn(), ms),
      );
    } else {
      this.held.set(id, { at: this.time + ms, fn });
    }
    return id;
  };

  clearTimeout = (handle: unknown): void => {
    const id = handle as number;
    this.held.delete(id);
    clearTimeout(this.real.get(id));
    this.real.delete(id);
  };

  /** Delays (from now) of the timers waiting for advance(). */
  pendingDelays(): number[] {
    return [...this.held.values()].map((t) => t.at - this.time).sort((a, b) => a - b);
  }

  advance(ms: number): void {
    this.time += ms;
    for (const [id, timer] of [...this.held]) {
      if (timer.at > this.time) continue;
      this.held.delete(id);
      timer.fn();
    }
  }
}
