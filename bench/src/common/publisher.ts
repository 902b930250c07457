/**
 * The benchmark's publisher: the same payloads, at a fixed rate, either the
 * way the poller publishes (SET the cached key + PUBLISH the same bytes) or
 * the way a Socket.IO deployment publishes (a Socket.IO node emitting through
 * @socket.io/redis-adapter).
 */
import { createAdapter } from '@socket.io/redis-adapter';
import type Redis from 'ioredis';
import type { RedisNames } from '@matomo-live/shared';
import { Server } from 'socket.io';
import { monotonicMs, type PayloadFactory } from './payload';

export interface LoadPublisher {
  /** Sends the message for `seq`, stamped with the current monotonic time. */
  send(seq: number): Promise<void>;
  close(): Promise<void>;
}

/** Poller-style: SET key + PUBLISH channel, in one MULTI (what the poller's Lua script amounts to). */
export class RedisLoadPublisher implements LoadPublisher {
  constructor(
    private readonly redis: Redis,
    private readonly names: Pick<RedisNames, 'snapshotKey' | 'snapshotChannel'>,
    private readonly payloads: PayloadFactory,
  ) {}

  async send(seq: number): Promise<void> {
    const bytes = this.payloads.message(seq, monotonicMs());
    await this.redis.multi().set(this.names.snapshotKey, bytes).publish(this.names.snapshotChannel, bytes).exec();
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}

/** Socket.IO-style: a server-less Socket.IO node whose redis adapter carries `io.emit` to every other node. */
export class SocketIoLoadPublisher implements LoadPublisher {
  private readonly io: Server;

  constructor(
    private readonly pubClient: Redis,
    private readonly subClient: Redis,
    private readonly payloads: PayloadFactory,
    key = 'socket.io',
  ) {
    this.io = new Server({ adapter: createAdapter(pubClient, subClient, { key }) });
  }

  async send(seq: number): Promise<void> {
    this.io.emit('snapshot', this.payloads.object(seq, monotonicMs()));
  }

  async close(): Promise<void> {
    // io.close() would try to close an engine this server-less node never had.
    this.pubClient.disconnect();
    this.subClient.disconnect();
  }
}

export interface RateRun {
  firstSeq: number;
  lastSeq: number;
  published: number;
  /** Monotonic ms of the first and last send. */
  startedAt: number;
  endedAt: number;
}

/**
 * Sends `count` messages, `rate` per second, seqs firstSeq.. consecutive.
 * Sends are scheduled against the start time, so a late tick does not shift the ones after it.
 */
export async function publishAtRate(publisher: LoadPublisher, rate: number, count: number, firstSeq: number): Promise<RateRun> {
  const interval = 1000 / rate;
  const startedAt = monotonicMs();
  let endedAt = startedAt;
  for (let i = 0; i < count; i++) {
    const due = startedAt + i * interval;
    const wait = due - monotonicMs();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    endedAt = monotonicMs();
    await publisher.send(firstSeq + i);
  }
  return { firstSeq, lastSeq: firstSeq + count - 1, published: count, startedAt, endedAt };
}
