import type Redis from 'ioredis';
import { redisNames, siteIdOfChannel, type Logger, type SnapshotFeed } from '@matomo-live/shared';

export interface RedisSnapshotFeedOptions {
  /** Connection used only for SUBSCRIBE (it cannot run other commands). Owned by the caller. */
  subscriber: Redis;
  /** Connection for GET of the cached snapshots. Owned by the caller. */
  command: Redis;
  /** Key/channel prefix. Default "matomo-live:". */
  prefix?: string;
  logger: Logger;
}

/**
 * SnapshotFeed over Redis pub/sub: one SUBSCRIBE per site per process. After
 * every (re)connect it subscribes again and then re-reads each cached key, so a
 * change published while the connection was down is still delivered; consumers
 * drop repeats by seq. Ready only while the subscriber is connected and every
 * site's subscription is confirmed.
 */
export class RedisSnapshotFeed implements SnapshotFeed {
  private readonly subscriber: Redis;
  private readonly command: Redis;
  private readonly prefix: string;
  private readonly logger: Logger;
  private readonly handlers = new Map<number, (bytes: Buffer) => void>();
  private readonly confirmed = new Set<number>();
  private closed = false;

  constructor({ subscriber, command, prefix = 'matomo-live:', logger }: RedisSnapshotFeedOptions) {
    this.subscriber = subscriber;
    this.command = command;
    this.prefix = prefix;
    this.logger = logger;
    subscriber.on('messageBuffer', this.onMessage);
    subscriber.on('ready', this.onReady);
    subscriber.on('close', this.onDown);
    subscriber.on('error', this.onError);
    command.on('error', this.onError);
  }

  async subscribe(siteId: number, onSnapshot: (bytes: Buffer) => void): Promise<Buffer | null> {
    this.handlers.set(siteId, onSnapshot);
    return this.sync(siteId);
  }

  isReady(): boolean {
    if (this.closed || this.subscriber.status !== 'ready' || this.handlers.size === 0) return false;
    for (const siteId of this.handlers.keys()) if (!this.confirmed.has(siteId)) return false;
    return true;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.subscriber.off('messageBuffer', this.onMessage);
    this.subscriber.off('ready', this.onReady);
    this.subscriber.off('close', this.onDown);
    this.handlers.clear();
    this.confirmed.clear();
  }

  /** Subscribe, then read the cache: anything published in between arrives on the channel. */
  private async sync(siteId: number): Promise<Buffer | null> {
    const names = redisNames(this.prefix, siteId);
    await this.subscriber.subscribe(names.snapshotChannel);
    this.confirmed.add(siteId);
    return this.command.getBuffer(names.snapshotKey);
  }

  private readonly onMessage = (channel: Buffer, message: Buffer): void => {
    const siteId = siteIdOfChannel(this.prefix, channel.toString());
    const handler = siteId === undefined ? undefined : this.handlers.get(siteId);
    if (handler === undefined) {
      this.logger.debug({ channel: channel.toString() }, 'message on an unexpected channel ignored');
      return;
    }
    handler(message);
  };

  /** ioredis resubscribes by itself; confirming and re-reading is ours. */
  private readonly onReady = (): void => {
    for (const [siteId, handler] of this.handlers) {
      this.sync(siteId).then(
        (cached) => {
          this.logger.info({ site: siteId }, 'subscribed to snapshots');
          if (cached !== null && this.handlers.get(siteId) === handler) handler(cached);
        },
        (error: Error) => this.logger.warn({ site: siteId, err: error }, 'resubscribe failed; retrying on next reconnect'),
      );
    }
  };

  private readonly onDown = (): void => {
    if (this.confirmed.size > 0) this.logger.warn('Redis subscriber connection lost; reconnecting');
    this.confirmed.clear();
  };

  private readonly onError = (error: Error): void => {
    this.logger.debug({ err: error }, 'Redis error');
  };
}
