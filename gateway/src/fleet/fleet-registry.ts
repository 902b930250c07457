import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { RedisClient } from '@matomo-live/shared';

/** What one gateway tells the others about itself. */
export interface FleetMember {
  id: string;
  /** Open WebSocket connections. */
  connections: number;
  /** Draining (SIGTERM): its clients are moving to the others. */
  draining: boolean;
  /** Clients it closed to rebalance in the last few seconds: reconnecting somewhere, counted nowhere yet. */
  inFlight: number;
}

/** The gateways sharing their connection counts. */
export interface FleetRegistry {
  /** This gateway's id in the fleet. */
  readonly id: string;
  /** Stores this gateway's entry and returns every fresh one (this one included); stale entries are pruned. */
  report(self: Omit<FleetMember, 'id'>): Promise<FleetMember[]>;
  /** Removes this gateway's entry (it is shutting down). */
  leave(): Promise<void>;
}

/** The hash every gateway of a prefix writes to: a hash tag of its own, so it is one key in a Redis Cluster too. */
export function fleetKey(prefix: string): string {
  return `{${prefix}fleet}:gateways`;
}

/**
 * Writes this gateway's entry, stamped with the Redis server's clock (one
 * clock for every gateway, whatever their hosts' clocks say), and returns the
 * entries no older than ARGV[3] ms, deleting older ones (Redis 7.0 has no
 * per-field TTL; a killed gateway's entry goes this way). The whole key
 * expires when no gateway has written for 10 × that.
 * KEYS: fleet hash. ARGV: id, "connections draining inFlight" ("" = read only), stale ms.
 * Values: "stampMs connections draining inFlight".
 */
const REPORT_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local stale = tonumber(ARGV[3])
if ARGV[2] ~= '' then
  redis.call('HSET', KEYS[1], ARGV[1], now .. ' ' .. ARGV[2])
  redis.call('PEXPIRE', KEYS[1], stale * 10)
end
local all = redis.call('HGETALL', KEYS[1])
local fresh = {}
for i = 1, #all, 2 do
  local stamp = tonumber(string.match(all[i + 1], '^(%d+)'))
  if stamp == nil or now - stamp > stale then
    redis.call('HDEL', KEYS[1], all[i])
  else
    fresh[#fresh + 1] = all[i]
    fresh[#fresh + 1] = all[i + 1]
  end
end
return fresh
`;

type ReportCommand = (key: string, id: string, entry: string, staleMs: string) => Promise<string[]>;

/** Parses the script's flat [id, value, id, value…] answer; malformed values are skipped. */
export function parseFleetEntries(flat: readonly string[]): FleetMember[] {
  const members: FleetMember[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const [, connections, draining, inFlight] = (flat[i + 1] ?? '').split(' ').map(Number);
    if (![connections, draining, inFlight].every((n) => Number.isSafeInteger(n) && (n as number) >= 0)) continue;
    members.push({ id: flat[i] as string, connections: connections!, draining: draining === 1, inFlight: inFlight! });
  }
  return members;
}

/** The fleet's counts in one Redis hash, any Redis mode (one key, one slot). */
export class RedisFleetRegistry implements FleetRegistry {
  readonly id: string;
  private readonly reportScript: ReportCommand;
  private readonly key: string;

  /**
   * @param staleMs an entry not refreshed for this long is a gone gateway's (reports come every second). Default 3000.
   * @param id default host:pid:random.
   */
  constructor(
    private readonly redis: RedisClient,
    prefix: string,
    private readonly staleMs = 3000,
    id = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`,
  ) {
    this.id = id;
    this.key = fleetKey(prefix);
    const commands = redis as unknown as Record<string, ReportCommand | undefined>;
    if (!commands.matomoLiveFleetReport) redis.defineCommand('matomoLiveFleetReport', { numberOfKeys: 1, lua: REPORT_LUA });
    this.reportScript = (redis as unknown as Record<string, ReportCommand>).matomoLiveFleetReport!.bind(redis);
  }

  async report(self: Omit<FleetMember, 'id'>): Promise<FleetMember[]> {
    const entry = `${self.connections} ${self.draining ? 1 : 0} ${self.inFlight}`;
    return parseFleetEntries(await this.reportScript(this.key, this.id, entry, String(this.staleMs)));
  }

  async leave(): Promise<void> {
    await this.redis.hdel(this.key, this.id);
  }
}
