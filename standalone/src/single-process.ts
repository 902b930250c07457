import { createPoller, createRedisPoller, type Poller } from '@matomo-live/poller';
import {
  ConfigError,
  createLogger,
  gatewayShutdownDeadlineMs,
  InMemorySnapshotBus,
  loadGatewayConfig,
  loadOrExit,
  loadPollerConfig,
  tokenFingerprint,
  type Logger,
  type RawEnv,
  type ReadEnvOptions,
  type SnapshotFeed,
} from '@matomo-live/shared';
import { createGateway, createRedisClients, GatewayMetrics, RedisSnapshotFeed, type Gateway } from '@matomo-live/gateway';

export interface SingleProcess {
  gateway: Gateway;
  poller: Poller;
  port: number;
  /** "memory" without REDIS_URL, "redis" with it. */
  bus: 'memory' | 'redis';
  logger: Logger;
  /** How long shutdown may take: the drain window plus 5 s. */
  shutdownDeadlineMs: number;
  /** Drains the gateway, stops the poller, closes everything. */
  shutdown(): Promise<void>;
}

/**
 * Poller and gateway in one process (`npm start`, the one-box setup). Without
 * REDIS_URL an in-memory bus joins them; with REDIS_URL they use exactly the
 * split deployment's Redis classes, so this mode tests the same code paths.
 */
export async function startSingleProcess(env: RawEnv = process.env, options: ReadEnvOptions = {}): Promise<SingleProcess> {
  const { pollerConfig, gatewayConfig } = loadOrExit(() => loadBoth(env, options));
  const logger = createLogger({ name: 'matomo-live', level: gatewayConfig.logLevel, pretty: gatewayConfig.logPretty });
  const closers: Array<() => Promise<void>> = [];
  const redisUrl = gatewayConfig.redisUrl;
  const bus = redisUrl === undefined ? 'memory' : 'redis';
  let feed: SnapshotFeed;
  let poller: Poller;
  if (redisUrl === undefined) {
    const memoryBus = new InMemorySnapshotBus();
    feed = memoryBus;
    poller = createPoller({ config: pollerConfig, publisher: memoryBus, logger: logger.child({ part: 'poller' }) });
  } else {
    const redisPoller = createRedisPoller({ config: pollerConfig, redisUrl, logger: logger.child({ part: 'poller' }) });
    redisPoller.redis.on('error', (error: Error) => logger.debug({ err: error }, 'poller Redis error'));
    poller = redisPoller.poller;
    const gatewayRedis = createRedisClients(redisUrl);
    feed = new RedisSnapshotFeed({ ...gatewayRedis, prefix: gatewayConfig.redisPrefix, logger });
    closers.push(async () => {
      await redisPoller.close();
      await gatewayRedis.close();
    });
  }
  const gateway = createGateway({ config: gatewayConfig, feed, logger, metrics: new GatewayMetrics({ defaultMetrics: true }) });
  logger.info(
    { matomoUrl: pollerConfig.matomoUrl, tokenFingerprint: tokenFingerprint(pollerConfig.matomoToken), sites: pollerConfig.siteIds, bus },
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
