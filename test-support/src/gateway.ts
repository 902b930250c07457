/** The gateway in the test's own process, on a free loopback port. */
import {
  createGateway,
  createRedisClients,
  RedisEventSource,
  RedisSnapshotFeed,
  type Gateway,
  type GatewayOptions,
} from '@matomo-live/gateway';
import type { SnapshotContent } from '@matomo-live/protocol';
import {
  contentDigest,
  encodeSnapshot,
  InMemorySnapshotBus,
  loadGatewayConfig,
  type GatewayConfig,
  type PublishOutcome,
} from '@matomo-live/shared';
import { silentLogger } from './logger';

/** The gateway's config from `env` alone (no .env file; Redis optional, as in the single-process mode). */
export function gatewayConfigFrom(env: Record<string, string>): GatewayConfig {
  return loadGatewayConfig(env, { dotenv: false, requireRedis: false });
}

/** The single-process mode's in-memory bus, publishing content as the poller does (digest, encoded bytes). */
export class MemorySnapshots extends InMemorySnapshotBus {
  publishContent(siteId: number, content: SnapshotContent, seq: number): Promise<PublishOutcome> {
    return this.publish(siteId, { digest: contentDigest(content), seq, bytes: encodeSnapshot(content, seq, new Date()) });
  }
}

export interface RunningGateway {
  gateway: Gateway;
  port: number;
  feed: GatewayOptions['feed'];
  /** Where the gateway reads visit events (a RedisEventSource beside the default feed, the bus's events with a MemorySnapshots). */
  events: GatewayOptions['events'];
  /** `ws://127.0.0.1:<port>/` */
  url: string;
  /** Disposes the gateway, then closes the feed if startGateway made it. */
  stop(): Promise<void>;
}

export interface StartGatewayOptions {
  /** Default: a RedisSnapshotFeed on config.redis, closed by stop(). A feed passed here stays the caller's. */
  feed?: GatewayOptions['feed'];
  /** Default: the system clock. */
  clock?: GatewayOptions['clock'];
  /** Default: a RedisEventSource with the default feed, the bus's events when `feed` is an InMemorySnapshotBus, else none. */
  events?: GatewayOptions['events'];
  /** Default: none (no rebalancing). */
  fleet?: GatewayOptions['fleet'];
}

export async function startGateway(
  config: GatewayConfig,
  { feed, clock, events, fleet }: StartGatewayOptions = {},
): Promise<RunningGateway> {
  let closeFeed = async (): Promise<void> => undefined;
  if (feed instanceof InMemorySnapshotBus) events ??= feed.events;
  if (!feed) {
    if (!config.redis) throw new Error('startGateway: the config has no Redis (REDIS_URL, …) and no feed was given');
    const redis = createRedisClients(config.redis, { logger: silentLogger, connectionName: 'gateway-test' });
    const redisFeed = new RedisSnapshotFeed({
      ...redis,
      prefix: config.redisPrefix,
      logger: silentLogger,
      seqCheckIntervalMs: config.seqCheckIntervalMs,
    });
    feed = redisFeed;
    events ??= new RedisEventSource({ ...redis, prefix: config.redisPrefix, logger: silentLogger });
    closeFeed = async () => {
      await redisFeed.close();
      redis.subscriber.client.disconnect();
      redis.command.disconnect();
    };
  }
  const gateway = createGateway({ config, feed, events, logger: silentLogger, clock, fleet });
  const stop = async (): Promise<void> => {
    await gateway.dispose();
    await closeFeed();
  };
  let port: number;
  try {
    port = await gateway.listen();
  } catch (error) {
    await stop();
    throw error;
  }
  return { gateway, port, feed, events, url: `ws://127.0.0.1:${port}/`, stop };
}
