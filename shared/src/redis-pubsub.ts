/**
 * The pub/sub differences between the Redis modes behind one small surface,
 * so the gateway's feed does not branch on the mode:
 *
 * | | single / Sentinel | Cluster |
 * | --- | --- | --- |
 * | subscribe | SUBSCRIBE on the one connection | SSUBSCRIBE on the master owning the channel's slot (one connection per master) |
 * | messages | `messageBuffer` | `smessageBuffer` |
 * | "subscriptions are back" | `ready` after every reconnect (ioredis has resubscribed) | `subscribersReady` after every sharded-subscriber reset, also after failed attempts (many per failover): debounced |
 *
 * A Cluster client stays `ready` through a master failover (no close/ready
 * events at all), which is why the re-read after a reconnect needs
 * `subscribersReady` there, and why the gateway also checks the stored seq.
 */
import { Cluster } from 'ioredis';
import type { RedisClient } from './redis-connection';

export interface ChannelSubscriberOptions {
  /** Cluster: quiet time after the last `subscribersReady` before resync listeners run, ms. Default 100. */
  resyncDebounceMs?: number;
}

export class RedisChannelSubscriber {
  /** SSUBSCRIBE (Cluster) rather than SUBSCRIBE. */
  readonly sharded: boolean;
  private readonly channels = new Set<string>();
  private readonly detach: Array<() => void> = [];
  private readonly resyncDebounceMs: number;
  private debounceTimer: NodeJS.Timeout | undefined;

  /** @param client a connection used for nothing but this (createRedisClient(…, 'gateway-subscriber')). Owned by the caller. */
  constructor(
    readonly client: RedisClient,
    { resyncDebounceMs = 100 }: ChannelSubscriberOptions = {},
  ) {
    this.sharded = client instanceof Cluster;
    this.resyncDebounceMs = resyncDebounceMs;
  }

  /**
   * Subscribes to `channel` and resolves once Redis confirmed it. Calling it
   * again is harmless: SUBSCRIBE is idempotent, and a sharded channel already
   * subscribed is not sent twice (ioredis would keep a duplicate in its
   * channel list and subscribe it twice after every reset).
   */
  async subscribe(channel: string): Promise<void> {
    if (this.sharded) {
      if (this.channels.has(channel)) return;
      await (this.client as Cluster).ssubscribe(channel);
    } else {
      await this.client.subscribe(channel);
    }
    this.channels.add(channel);
  }

  /** Ends the subscription to `channel` (nothing happens for one not subscribed). */
  async unsubscribe(channel: string): Promise<void> {
    this.channels.delete(channel);
    if (this.sharded) await (this.client as Cluster).sunsubscribe(channel);
    else await this.client.unsubscribe(channel);
  }

  /** Drops and re-creates the subscription (a subscription that stopped delivering without any error). */
  async resubscribe(channel: string): Promise<void> {
    await this.unsubscribe(channel);
    await this.subscribe(channel);
  }

  /** Every message on a subscribed channel, as bytes. */
  onMessage(listener: (channel: string, message: Buffer) => void): void {
    const event = this.sharded ? 'smessageBuffer' : 'messageBuffer';
    const handler = (channel: Buffer, message: Buffer) => listener(channel.toString(), message);
    this.listen(event, handler);
  }

  /**
   * After the subscriptions were (re)established following a disconnect or a
   * failover: the moment to re-read what may have been published meanwhile.
   */
  onResync(listener: () => void): void {
    this.listen('ready', listener);
    if (!this.sharded) return;
    this.listen('subscribersReady', () => {
      clearTimeout(this.debounceTimer);
      this.debounceTimer = setTimeout(listener, this.resyncDebounceMs);
      this.debounceTimer.unref();
    });
  }

  /** The connection dropped: messages may be lost until the next resync. */
  onDown(listener: () => void): void {
    this.listen('close', listener);
  }

  isConnected(): boolean {
    return this.client.status === 'ready';
  }

  /** Removes this adapter's listeners (the client stays the caller's to close). */
  close(): void {
    clearTimeout(this.debounceTimer);
    for (const off of this.detach.splice(0)) off();
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- EventEmitter's own listener type
  private listen(event: string, handler: (...args: any[]) => void): void {
    this.client.on(event, handler);
    this.detach.push(() => this.client.off(event, handler));
  }
}
