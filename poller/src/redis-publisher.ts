import type Redis from 'ioredis';
import { redisNames, type PublishOutcome, type PublishRequest, type SnapshotPublisher, type StoredState } from '@matomo-live/shared';

/**
 * The whole publish, atomically in Redis: lease fencing, digest comparison,
 * seq ordering, then SET key + HSET state + one PUBLISH of the same bytes.
 * Seqs travel as strings: Lua's numbers print 1.7e12 in exponent form.
 *
 * KEYS: snapshot key, state hash, lease key. ARGV: digest, seq, bytes, lease owner ("" = no fencing), channel.
 */
const PUBLISH_LUA = `
if ARGV[4] ~= '' and redis.call('GET', KEYS[3]) ~= ARGV[4] then
  return {'not-leader', '0'}
end
local state = redis.call('HMGET', KEYS[2], 'digest', 'seq')
if state[1] == ARGV[1] and redis.call('EXISTS', KEYS[1]) == 1 then
  return {'unchanged', state[2]}
end
if state[2] and tonumber(state[2]) >= tonumber(ARGV[2]) then
  return {'seq-behind', state[2]}
end
redis.call('SET', KEYS[1], ARGV[3])
redis.call('HSET', KEYS[2], 'digest', ARGV[1], 'seq', ARGV[2])
redis.call('PUBLISH', ARGV[5], ARGV[3])
return {'published', ARGV[2]}
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
) => Promise<[string, string]>;

/** SnapshotPublisher over one Redis connection (commands only; it never subscribes). */
export class RedisSnapshotPublisher implements SnapshotPublisher {
  private readonly publishCommand: PublishCommand;

  /** @param prefix key and channel prefix. Default "matomo-live:". */
  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'matomo-live:',
  ) {
    if (!(redis as unknown as Record<string, unknown>).matomoLivePublish) {
      redis.defineCommand('matomoLivePublish', { numberOfKeys: 3, lua: PUBLISH_LUA });
    }
    const command = (redis as unknown as Record<string, PublishCommand>).matomoLivePublish!;
    this.publishCommand = command.bind(redis);
  }

  async readState(siteId: number): Promise<StoredState | null> {
    const [digest = null, seq = null] = await this.redis.hmget(redisNames(this.prefix, siteId).stateKey, 'digest', 'seq');
    if (digest === null || seq === null || !/^\d+$/.test(seq)) return null;
    return { digest, seq: Number(seq) };
  }

  async publish(siteId: number, { digest, seq, bytes, leaseOwner }: PublishRequest): Promise<PublishOutcome> {
    const names = redisNames(this.prefix, siteId);
    const [kind, storedSeq] = await this.publishCommand(
      names.snapshotKey,
      names.stateKey,
      names.leaseKey,
      digest,
      String(seq),
      bytes,
      leaseOwner ?? '',
      names.snapshotChannel,
    );
    switch (kind) {
      case 'published':
        return { kind, seq };
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
