import {
  redisNames,
  type PublishOutcome,
  type PublishRequest,
  type RedisClient,
  type SnapshotPublisher,
  type StoredCursor,
  type StoredState,
} from '@matomo-live/shared';
import { PUBLISH_KEYS, publishScriptArgs } from './publish-script-args';

/**
 * The whole publish, atomically in Redis: lease fencing, digest comparison,
 * seq ordering, then one PUBLISH (or SPUBLISH, Cluster mode) + SET key + HSET
 * state of the same bytes. Every key and the channel share the site's hash
 * tag, so in a Cluster the script runs on the node owning the site's slot and
 * SPUBLISH reaches that shard's subscribers only. A call that fails aborts
 * the script without undoing the writes before it, which is why every
 * channel carries the site's tag: (S)PUBLISH cannot fail for a wrong slot.
 * Seqs travel as strings: Lua's numbers print 1.7e12 in exponent form.
 *
 * "Unchanged" needs the same digest, the snapshot key, AND a stored seq of at
 * least the one the poller last saw stored: a state rolled back by a failover
 * (acknowledged writes lost) is published again even if its content matches.
 *
 * Visit events (when the request has some): after the lease and seq checks,
 * whether or not the snapshot changed. The stored cursor version must be the
 * one the poller holds (else `cursor-stale`, nothing written); each event is
 * XADDed with the id of the one before (`prev`, the state hash's
 * `events_last`), the stream trimmed to MAXLEN ~ and MINID (newest −
 * retention, exact), the cursor hash moved and its version bumped, and one message
 * on the events channel lists the new entries. Stream, cursor and snapshot
 * change together or not at all, so a standby that takes over continues from
 * exactly the cursor that produced the last stored event.
 *
 * KEYS and ARGV: named and ordered in publish-script-args.ts (PUBLISH_KEYS, PUBLISH_ARGV, publishScriptArgs).
 * Returns {outcome, stored or published seq, receivers ("0" when none), cursor version ("" without events),
 * corrupt ("seq" / "snapshot" when the stored state could not be trusted and was overwritten, else ""), event ids…}.
 *
 * Poisoned state (anyone on Redis's network can write it) must not wedge a site: a stored seq that is not digits
 * below maxSeq counts as absent, and a snapshot key whose sha1 is not the one stored with it (`sha`) as changed.
 */
const PUBLISH_LUA = `
if ARGV[4] ~= '' and redis.call('GET', KEYS[3]) ~= ARGV[4] then
  return {'not-leader', '0', '0', ''}
end
local state = redis.call('HMGET', KEYS[2], 'digest', 'seq', 'events_last', 'sha')
local corrupt = ''
local stored = nil
if state[2] then
  -- Digits only, at most 15 of them, below maxSeq: anything else (2^53-1, -5, "abc", "inf", 1e300) would wedge the
  -- site behind a seq no poller can pass, so it is treated as absent and overwritten by this publish.
  if string.match(state[2], '^%d+$') and #state[2] <= 15 and tonumber(state[2]) < tonumber(ARGV[18]) then
    stored = tonumber(state[2])
  else
    corrupt = 'seq'
  end
end
local unchanged = state[1] == ARGV[1] and stored and stored >= tonumber(ARGV[7])
if unchanged then
  -- The key must hold exactly the bytes last stored (their sha1): a key that was overwritten or cut does not decode.
  local cached = redis.call('GET', KEYS[1])
  if not cached then
    unchanged = false
  elseif state[4] and redis.sha1hex(cached) ~= state[4] then
    unchanged = false
    corrupt = 'snapshot'
  elseif not state[4] then
    unchanged = false
  end
end
if not unchanged and stored and stored >= tonumber(ARGV[2]) then
  return {'seq-behind', state[2], '0', '', corrupt}
end
local version = ''
local ids = {}
if ARGV[9] == '' and ARGV[20] ~= '' then
  -- No events this tick, but a held cursor: one that vanished (Redis came back empty) must be noticed now.
  local held = tonumber(redis.call('HGET', KEYS[5], 'version') or '0')
  if held ~= tonumber(ARGV[20]) then
    return {'cursor-stale', tostring(held), '0', '', corrupt}
  end
end
if ARGV[9] ~= '' then
  local held = tonumber(redis.call('HGET', KEYS[5], 'version') or '0')
  if held ~= tonumber(ARGV[9]) then
    return {'cursor-stale', tostring(held), '0', '', corrupt}
  end
  local n, nset, nforget = tonumber(ARGV[15]), tonumber(ARGV[16]), tonumber(ARGV[17])
  local i = 21
  local prev = state[3] or '0-0'
  local parts = {}
  for k = 1, n do
    local kind, data = ARGV[i], ARGV[i + 1]
    i = i + 2
    local id = redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[13], '*', 'prev', prev, 'kind', kind, 'data', data)
    parts[#parts + 1] = '{"id":"' .. id .. '","prev":"' .. prev .. '","kind":"' .. kind .. '","data":' .. data .. '}'
    ids[#ids + 1] = id
    prev = id
  end
  if n > 0 then
    local newest = tonumber(string.match(prev, '^(%d+)'))
    -- Exact MINID (not ~): a quiet site's stream would otherwise keep hour-old events until a 100-entry node fills,
    -- and a resume would replay them as news. pcall: MINID needs Redis 6.2; on an older server MAXLEN alone bounds it.
    redis.pcall('XTRIM', KEYS[4], 'MINID', string.format('%.0f', newest - tonumber(ARGV[12])))
    redis.call('HSET', KEYS[2], 'events_last', prev)
    redis.call(ARGV[6], ARGV[8], '{"site":' .. ARGV[14] .. ',"events":[' .. table.concat(parts, ',') .. ']}')
  end
  version = tostring(held + 1)
  redis.call('HSET', KEYS[5], 'after', ARGV[10], 'offset', ARGV[11], 'version', version, 'history_until', ARGV[19])
  local batch = {}
  for k = 1, nset do
    batch[#batch + 1] = 'v:' .. ARGV[i]
    batch[#batch + 1] = ARGV[i + 1]
    i = i + 2
    if #batch >= 1000 or k == nset then
      redis.call('HSET', KEYS[5], unpack(batch))
      batch = {}
    end
  end
  for k = 1, nforget do
    batch[#batch + 1] = 'v:' .. ARGV[i]
    i = i + 1
    if #batch >= 1000 or k == nforget then
      redis.call('HDEL', KEYS[5], unpack(batch))
      batch = {}
    end
  end
end
local head = {}
if unchanged then
  head = {'unchanged', state[2], '0', version, corrupt}
else
  local receivers = redis.call(ARGV[6], ARGV[5], ARGV[3])
  redis.call('SET', KEYS[1], ARGV[3])
  redis.call('HSET', KEYS[2], 'digest', ARGV[1], 'seq', ARGV[2], 'sha', redis.sha1hex(ARGV[3]))
  head = {'published', ARGV[2], tostring(receivers), version, corrupt}
end
for k = 1, #ids do head[#head + 1] = ids[k] end
return head
`;

type PublishCommand = (...args: Array<string | Buffer>) => Promise<string[]>;

/** SnapshotPublisher over one injected Redis connection, any mode (commands only; it never subscribes). */
export class RedisSnapshotPublisher implements SnapshotPublisher {
  private readonly publishScript: PublishCommand;

  /**
   * @param prefix key and channel prefix. Default "matomo-live:".
   * @param publishCommand SPUBLISH in Cluster mode (publishCommandOf(mode)), else PUBLISH. Default "PUBLISH".
   */
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix = 'matomo-live:',
    private readonly publishCommand: 'PUBLISH' | 'SPUBLISH' = 'PUBLISH',
  ) {
    const commands = redis as unknown as Record<string, PublishCommand | undefined>;
    if (!commands.matomoLivePublish) redis.defineCommand('matomoLivePublish', { numberOfKeys: PUBLISH_KEYS.length, lua: PUBLISH_LUA });
    this.publishScript = (redis as unknown as Record<string, PublishCommand>).matomoLivePublish!.bind(redis);
  }

  /** SET with PX, then (S)PUBLISH: both name the site's tag, so in a Cluster they go to the one node of its slot. */
  async publishHeartbeat(siteId: number, bytes: Buffer, ttlMs: number): Promise<void> {
    const { heartbeatKey, heartbeatChannel } = redisNames(this.prefix, siteId);
    await this.redis.set(heartbeatKey, bytes, 'PX', Math.max(1, Math.ceil(ttlMs)));
    if (this.publishCommand === 'SPUBLISH')
      await (this.redis as unknown as { spublish(c: string, m: Buffer): Promise<number> }).spublish(heartbeatChannel, bytes);
    else await this.redis.publish(heartbeatChannel, bytes);
  }

  async readState(siteId: number): Promise<StoredState | null> {
    const [digest = null, seq = null] = await this.redis.hmget(redisNames(this.prefix, siteId).stateKey, 'digest', 'seq');
    if (digest === null || seq === null || !/^\d+$/.test(seq)) return null;
    return { digest, seq: Number(seq) };
  }

  async readCursor(siteId: number): Promise<StoredCursor | null> {
    const fields = await this.redis.hgetall(redisNames(this.prefix, siteId).cursorKey);
    const number = (text: string | undefined) => (text !== undefined && /^-?\d+$/.test(text) ? Number(text) : undefined);
    const after = number(fields.after);
    const offset = number(fields.offset);
    const version = number(fields.version);
    if (after === undefined || offset === undefined || version === undefined) return null;
    const seen: Array<[number, string]> = [];
    for (const [field, value] of Object.entries(fields)) {
      const id = field.startsWith('v:') ? number(field.slice(2)) : undefined;
      if (id !== undefined) seen.push([id, value]);
    }
    const historyUntil = number(fields.history_until);
    return { after, offset, version, seen, ...(historyUntil ? { historyUntil } : {}) };
  }

  async publish(
    siteId: number,
    { digest, seq, bytes, leaseOwner, knownSeq = 0, events, cursorVersion }: PublishRequest,
  ): Promise<PublishOutcome> {
    const { keys, argv } = publishScriptArgs({
      names: redisNames(this.prefix, siteId),
      siteId,
      digest,
      seq,
      bytes,
      leaseOwner,
      publishCommand: this.publishCommand,
      knownSeq,
      events,
      cursorVersion,
    });
    const [kind = '', storedSeq = '0', receivers = '0', version = '', corrupt = '', ...ids] = await this.publishScript(...keys, ...argv);
    const eventsOutcome = version === '' ? undefined : { ids, cursorVersion: Number(version) };
    switch (kind) {
      case 'published':
        return {
          kind,
          seq,
          receivers: Number(receivers),
          events: eventsOutcome,
          ...(corrupt === 'seq' || corrupt === 'snapshot' ? { corrupt } : {}),
        };
      case 'unchanged':
        return { kind, seq: Number(storedSeq), events: eventsOutcome };
      case 'seq-behind':
        return { kind, storedSeq: Number(storedSeq) };
      case 'cursor-stale':
        return { kind, version: Number(storedSeq) };
      case 'not-leader':
        return { kind };
      default:
        throw new Error(`unexpected answer from the publish script: ${kind}`);
    }
  }
}
