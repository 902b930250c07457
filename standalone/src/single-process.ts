import { createPoller, createRedisPoller, type Poller } from '@matomo-live/poller';
import {
  ConfigError,
  createLogger,
  describeRedis,
  gatewayShutdownDeadlineMs,
  InMemorySnapshotBus,
  loadGatewayConfig,
  loadOrExit,
  loadPollerConfig,
  tokenFingerprint,
  type Logger,
  type EventSource,
  type RawEnv,
  type ReadEnvOptions,
  type SnapshotFeed,
} from '@matomo-live/shared';
import { createGateway, createRedisClients, GatewayMetrics, RedisEventSource, RedisSnapshotFeed, type Gateway } from '@matomo-live/gateway';

export interface SingleProcess {
  gateway: Gateway;
  poller: Poller;
  port: number;
  /** "memory" without any Redis variable, "redis" with REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES. */
  bus: 'memory' | 'redis';
  logger: Logger;
  /** How long shutdown may take: the drain window plus 5 s. */
  shutdownDeadlineMs: number;
  /** Drains the gateway, stops the poller, closes everything. */
  shutdown(): Promise<void>;
}

/**
 * Poller and gateway in one process (`npm start`, the one-box setup). Without
 * Redis an in-memory bus joins them; with a Redis mode (REDIS_URL,
 * REDIS_SENTINELS or REDIS_CLUSTER_NODES) they use exactly the split
 * deployment's Redis classes, so this mode tests the same code paths.
 */
export async function startSingleProcess(env: RawEnv = process.env, options: ReadEnvOptions = {}): Promise<SingleProcess> {
  const { pollerConfig, gatewayConfig } = loadOrExit(() => loadBoth(env, options));
  const logger = createLogger({ name: 'matomo-live', level: gatewayConfig.logLevel, pretty: gatewayConfig.logPretty });
  // The gateway logs its own warnings when it starts listening.
  for (const warning of pollerConfig.warnings) logger.warn(warning);
  const closers: Array<() => Promise<void>> = [];
  const redis = gatewayConfig.redis;
  const bus = redis === undefined ? 'memory' : 'redis';
  let feed: SnapshotFeed;
  let events: EventSource;
  let poller: Poller;
  if (redis === undefined) {
    const memoryBus = new InMemorySnapshotBus();
    feed = memoryBus;
    events = memoryBus.events;
    poller = createPoller({ config: pollerConfig, publisher: memoryBus, logger: logger.child({ part: 'poller' }) });
  } else {
    const redisPoller = createRedisPoller({ config: pollerConfig, redis, logger: logger.child({ part: 'poller' }) });
    poller = redisPoller.poller;
    const gatewayRedis = createRedisClients(redis, { logger: logger.child({ part: 'gateway' }) });
    feed = new RedisSnapshotFeed({
      ...gatewayRedis,
      prefix: gatewayConfig.redisPrefix,
      logger,
      seqCheckIntervalMs: gatewayConfig.seqCheckIntervalMs,
    });
    events = new RedisEventSource({ ...gatewayRedis, prefix: gatewayConfig.redisPrefix, logger });
    closers.push(async () => {
      await redisPoller.close();
      await gatewayRedis.close();
    });
  }
  const gateway = createGateway({ config: gatewayConfig, feed, events, logger, metrics: new GatewayMetrics({ defaultMetrics: true }) });
  logger.info(
    {
      matomoUrl: pollerConfig.matomoUrl,
      tokenFingerprint: tokenFingerprint(pollerConfig.matomoToken),
      sites: pollerConfig.siteIds,
      bus,
      redis: describeRedis(redis),
    },
    'single-process mode',
  );
  const port = await gateway.listen();
  await poller.start();
  return {
    gateway,
    poller,
    port,
    bus,
    logger,
    shutdownDeadlineMs: gatewayShutdownDeadlineMs(gatewayConfig),
    async shutdown() {
      await gateway.drain();
      await poller.stop();
      await gateway.dispose();
      await feed.close();
      for (const close of closers) await close();
    },
  };
}

/** Both configurations, with every bad variable of either reported in one go. */
function loadBoth(env: RawEnv, options: ReadEnvOptions) {
  const lines: string[] = [];
  const attempt = <T>(load: () => T): T | undefined => {
    try {
      return load();
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      for (const line of error.lines) if (!lines.includes(line)) lines.push(line);
      return undefined;
    }
  };
  const pollerConfig = attempt(() => loadPollerConfig(env, { ...options, requireRedis: false }));
  const gatewayConfig = attempt(() => loadGatewayConfig(env, { ...options, requireRedis: false }));
  if (pollerConfig === undefined || gatewayConfig === undefined) throw new ConfigError(lines);
  return { pollerConfig, gatewayConfig };
}
