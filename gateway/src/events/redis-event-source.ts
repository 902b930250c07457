import { STREAM_START } from '@matomo-live/protocol';
import {
  redisNames,
  siteIdOfEventsChannel,
  type EventSource,
  type Logger,
  type RedisChannelSubscriber,
  type RedisClient,
  type StoredEvent,
} from '@matomo-live/shared';

export interface RedisEventSourceOptions {
  /** The gateway's pub/sub connection (shared with the snapshot feed). Owned by the caller. */
  subscriber: RedisChannelSubscriber;
  /** Connection for XRANGE and HGET. Owned by the caller. */
  command: RedisClient;
  /** Key/channel prefix. Default "matomo-live:". */
  prefix?: string;
  logger: Logger;
}

type StreamReply = Array<[id: string, fields: string[]]>;

/**
 * EventSource over Redis, any mode: the site's events channel (SUBSCRIBE, or
 * SSUBSCRIBE in a Cluster) subscribed only while the gateway has clients that
 * want events, and the site's stream for replays and gap repairs. Ranges are
 * read inclusively and the start dropped, which works from Redis 5 on
 * (exclusive ranges need 6.2).
 */
export class RedisEventSource implements EventSource {
  private readonly subscriber: RedisChannelSubscriber;
  private readonly command: RedisClient;
  private readonly prefix: string;
  private readonly logger: Logger;
  private readonly handlers = new Map<number, (events: StoredEvent[]) => void>();

  constructor({ subscriber, command, prefix = 'matomo-live:', logger }: RedisEventSourceOptions) {
    this.subscriber = subscriber;
    this.command = command;
    this.prefix = prefix;
    this.logger = logger;
    subscriber.onMessage(this.onMessage);
  }

  async subscribe(siteId: number, onEvents: (events: StoredEvent[]) => void): Promise<void> {
    this.handlers.set(siteId, onEvents);
    await this.subscriber.subscribe(redisNames(this.prefix, siteId).eventsChannel);
  }

  async unsubscribe(siteId: number): Promise<void> {
    this.handlers.delete(siteId);
    await this.subscriber.unsubscribe(redisNames(this.prefix, siteId).eventsChannel);
  }

  async range(siteId: number, afterId: string, count: number): Promise<StoredEvent[]> {
    const reply = (await this.command.xrange(redisNames(this.prefix, siteId).eventsKey, afterId, '+', 'COUNT', count + 1)) as StreamReply;
    return this.read(siteId, reply.filter(([id]) => id !== afterId).slice(0, count));
  }

  async latest(siteId: number, count: number): Promise<StoredEvent[]> {
    const reply = (await this.command.xrevrange(redisNames(this.prefix, siteId).eventsKey, '+', '-', 'COUNT', count)) as StreamReply;
    return this.read(siteId, reply.reverse());
  }

  async lastId(siteId: number): Promise<string> {
    return (await this.command.hget(redisNames(this.prefix, siteId).stateKey, 'events_last')) ?? STREAM_START;
  }

  onResync(listener: () => void): void {
    this.subscriber.onResync(listener);
  }

  /** Stream entries → events; an entry that is not ours (wrong fields) is logged and skipped. */
  private read(siteId: number, reply: StreamReply): StoredEvent[] {
    const events: StoredEvent[] = [];
    for (const [id, fields] of reply) {
      const value: Record<string, string> = {};
      for (let i = 0; i + 1 < fields.length; i += 2) value[fields[i]!] = fields[i + 1]!;
      const event = storedEvent({ id, prev: value.prev, kind: value.kind, data: value.data });
      if (event) events.push(event);
      else this.logger.warn({ site: siteId, id }, 'ignoring a malformed event stream entry');
    }
    return events;
  }

  /** `{"site":1,"events":[{"id","prev","kind","data":{…}}]}` from the publish script; malformed ones are logged and ignored. */
  private readonly onMessage = (channel: string, message: Buffer): void => {
    const siteId = siteIdOfEventsChannel(this.prefix, channel);
    if (siteId === undefined) return;
    const handler = this.handlers.get(siteId);
    if (handler === undefined) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(message.toString());
    } catch {
      this.logger.warn({ site: siteId, bytes: message.length }, 'ignoring an events message that is not JSON');
      return;
    }
    const list = (parsed as { events?: unknown } | null)?.events;
    const events = Array.isArray(list)
      ? list.map((e: Record<string, unknown> | null) =>
          storedEvent({ id: e?.id, prev: e?.prev, kind: e?.kind, data: e?.data === undefined ? undefined : JSON.stringify(e.data) }),
        )
      : [];
    if (events.length === 0 || events.some((e) => e === undefined)) {
      this.logger.warn({ site: siteId }, 'ignoring a malformed events message');
      return;
    }
    handler(events as StoredEvent[]);
  };
}

function storedEvent(raw: { id: unknown; prev: unknown; kind: unknown; data: unknown }): StoredEvent | undefined {
  const { id, prev, kind, data } = raw;
  if (typeof id !== 'string' || typeof prev !== 'string' || typeof data !== 'string') return undefined;
  if (kind !== 'visit' && kind !== 'reset') return undefined;
  return { id, prev, kind, data };
}
