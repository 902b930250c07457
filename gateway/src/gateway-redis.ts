import {
  closeRedisClient,
  createRedisClient,
  RedisChannelSubscriber,
  type Logger,
  type RedisClient,
  type RedisConnectionConfig,
} from '@matomo-live/shared';

export interface GatewayRedis {
  /** The pub/sub side: SUBSCRIBE, or SSUBSCRIBE on each master in Cluster mode. */
  subscriber: RedisChannelSubscriber;
  /** Connection for other commands (GET, the seq check). */
  command: RedisClient;
  /** Drops the subscriber, then QUITs the command connection (disconnects it if QUIT fails). */
  close(): Promise<void>;
}

export interface GatewayRedisOptions {
  /** Gets both connections' errors at warn. */
  logger: Logger;
  /** CLIENT SETNAME prefix. Default "matomo-live-gateway". */
  connectionName?: string;
  /** Cluster only: periodic slot-map refresh, ms. Default 5000. */
  slotsRefreshIntervalMs?: number;
}

/**
 * The gateway's two Redis connections, in any mode. Commands never fail for
 * being offline: the feed waits for Redis instead, and reports not ready
 * meanwhile.
 */
export function createRedisClients(
  config: RedisConnectionConfig,
  { logger, connectionName = 'matomo-live-gateway', slotsRefreshIntervalMs }: GatewayRedisOptions,
): GatewayRedis {
  const subscriberClient = createRedisClient(config, 'gateway-subscriber', {
    logger,
    connectionName: `${connectionName}-sub`,
    slotsRefreshIntervalMs,
  });
  const command = createRedisClient(config, 'gateway-command', { logger, connectionName, slotsRefreshIntervalMs });
  const subscriber = new RedisChannelSubscriber(subscriberClient);
  return {
    subscriber,
    command,
    async close() {
      subscriber.close();
      subscriberClient.disconnect();
      await closeRedisClient(command);
    },
  };
}
