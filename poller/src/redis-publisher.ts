import {
  redisNames,
  type PublishOutcome,
  type PublishRequest,
  type RedisClient,
  type SnapshotPublisher,
  type StoredState,
} from '@matomo-live/shared';

/**
 * The whole publish, atomically in Redis: lease fencing, digest comparison,
 * seq ordering, then one PUBLISH (or SPUBLISH, Cluster mode) + SET key + HSET
 * state of the same bytes. Every key and the channel share the site's hash
 * tag, so in a Cluster the script runs on the node owning the site's slot and
 * SPUBLISH reaches that shard's subscribers only. The publish comes first: a
 * call that fails aborts the script without undoing the writes before it.
 * Seqs travel as strings: Lua's numbers print 1.7e12 in exponent form.
 *
 * "Unchanged" needs the same digest, the snapshot key, AND a stored seq of at
 * least the one the poller last saw stored: a state rolled back by a failover
 * (acknowledged writes lost) is published again even if its content matches.
 *
 * KEYS: snapshot key, state hash, lease key.
 * ARGV: digest, seq, bytes, lease owner ("" = no fencing), channel, PUBLISH|SPUBLISH, known seq.
 * Returns {outcome, stored or published seq, receivers of the publish ("0" when none happened)}.
 */
const PUBLISH_LUA = `
if ARGV[4] ~= '' and redis.call('GET', KEYS[3]) ~= ARGV[4] then
  return {'not-leader', '0', '0'}
end
local state = redis.call('HMGET', KEYS[2], 'digest', 'seq')
local stored = tonumber(state[2])
if state[1] == ARGV[1] and stored and stored >= tonumber(ARGV[7]) and redis.call('EXISTS', KEYS[1]) == 1 then
  return {'unchanged', state[2], '0'}
end
if stored and stored >= tonumber(ARGV[2]) then
  return {'seq-behind', state[2], '0'}
end
local receivers = redis.call(ARGV[6], ARGV[5], ARGV[3])
redis.call('SET', KEYS[1], ARGV[3])
redis.call('HSET', KEYS[2], 'digest', ARGV[1], 'seq', ARGV[2])
return {'published', ARGV[2], tostring(receivers)}
`;

type PublishCommand = (
  snapshotKey: string,
  stateKey: string,
  leaseKey: string,
  digest: string,
  seq: string,
  bytes: Buffer,
  owner: string,
  channel: string,
  publishCommand: string,
  knownSeq: string,
) => Promise<[string, string, string]>;

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
    if (!commands.matomoLivePublish) redis.defineCommand('matomoLivePublish', { numberOfKeys: 3, lua: PUBLISH_LUA });
    this.publishScript = (redis as unknown as Record<string, PublishCommand>).matomoLivePublish!.bind(redis);
  }

  async readState(siteId: number): Promise<StoredState | null> {
    const [digest = null, seq = null] = await this.redis.hmget(redisNames(this.prefix, siteId).stateKey, 'digest', 'seq');
    if (digest === null || seq === null || !/^\d+$/.test(seq)) return null;
    return { digest, seq: Number(seq) };
  }

  async publish(siteId: number, { digest, seq, bytes, leaseOwner, knownSeq = 0 }: PublishRequest): Promise<PublishOutcome> {
    const names = redisNames(this.prefix, siteId);
    const [kind, storedSeq, receivers] = await this.publishScript(
      names.snapshotKey,
      names.stateKey,
      names.leaseKey,
      digest,
      String(seq),
      bytes,
      leaseOwner ?? '',
      names.snapshotChannel,
      this.publishCommand,
      String(knownSeq),
    );
    switch (kind) {
      case 'published':
        return { kind, seq, receivers: Number(receivers) };
      case 'unchanged':
        return { kind, seq: Number(storedSeq) };
      case 'seq-behind':
        return { kind, storedSeq: Number(storedSeq) };
      case 'not-leader':
        return { kind };
      default:
        throw new Error(`unexpected answer from the publish script: ${kind}`);
    }
  }
}
