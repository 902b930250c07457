import { createLogger, describeRedis, exitOnSignals, gatewayShutdownDeadlineMs, loadGatewayConfig, loadOrExit } from '@matomo-live/shared';
import { RedisFleetRegistry } from './fleet/fleet-registry';
import { createGateway } from './gateway';
import { GatewayMetrics } from './metrics/gateway-metrics';
import { RedisEventSource } from './events/redis-event-source';
import { RedisSnapshotFeed } from './snapshots/redis-snapshot-feed';
import { createRedisClients } from './gateway-redis';

/** The split deployment's gateway: `node gateway/dist/main.js` (needs one Redis mode, no MATOMO_*). */
async function main(): Promise<void> {
  const config = loadOrExit(() => loadGatewayConfig(process.env));
  const logger = createLogger({ name: 'gateway', level: config.logLevel, pretty: config.logPretty });
  // The loader requires one Redis mode here (requireRedis defaults to true).
  const redis = createRedisClients(config.redis!, { logger });
  const feed = new RedisSnapshotFeed({ ...redis, prefix: config.redisPrefix, logger, seqCheckIntervalMs: config.seqCheckIntervalMs });
  logger.info({ redis: describeRedis(config.redis), prefix: config.redisPrefix }, 'redis');
  const events = new RedisEventSource({ ...redis, prefix: config.redisPrefix, logger });
  const fleet = config.rebalance ? new RedisFleetRegistry(redis.command, config.redisPrefix) : undefined;
  const gateway = createGateway({ config, feed, events, logger, fleet, metrics: new GatewayMetrics({ defaultMetrics: true }) });
  exitOnSignals(
    async () => {
      await gateway.drain();
      await gateway.dispose();
      await feed.close();
      await redis.close();
    },
    { logger, deadlineMs: gatewayShutdownDeadlineMs(config) },
  );
  // SIGHUP re-reads the token files and JWT_JWKS_URL (docs/OPERATIONS.md, "Rotation"); without a handler it would end the process.
  process.on('SIGHUP', () => {
    logger.info('SIGHUP: reloading tokens');
    void gateway.reloadTokens();
  });
  await gateway.listen();
}

main().catch((error: Error) => {
  process.stderr.write(`gateway failed to start: ${error.message}\n`);
  process.exit(1);
});
