import { setTimeout as delay } from 'node:timers/promises';
import { createLogger, describeRedis, loadOrExit, loadPollerConfig, tokenFingerprint, type Logger, type RawEnv } from '@matomo-live/shared';
import { startHealthServer, type HealthServer } from './health-server';
import type { Poller } from './poller';
import { PollerMetrics } from './poller-metrics';
import { createRedisPoller } from './redis-wiring';

export interface PollerProcess {
  poller: Poller;
  logger: Logger;
  health: HealthServer | undefined;
  /** Stops polling, releases leases, closes the health server and Redis. */
  shutdown(): Promise<void>;
}

/**
 * The split-deployment poller: config (exits 78 on bad env) → logger → Redis
 * → leases + publisher → poller → health endpoint. Signals are main.ts's job.
 */
export async function startPollerProcess(env: RawEnv = process.env): Promise<PollerProcess> {
  const config = loadOrExit(() => loadPollerConfig(env));
  const logger = createLogger({ name: 'poller', level: config.logLevel, pretty: config.logPretty });
  for (const warning of config.warnings) logger.warn(warning);
  // The loader requires one Redis mode here (requireRedis defaults to true).
  const metrics = new PollerMetrics({ siteIds: config.siteIds, defaultMetrics: true });
  const { poller, redis, leases, close } = createRedisPoller({ config, redis: config.redis!, logger, metrics });
  redis.on('ready', () => logger.info('redis ready'));
  logger.info(
    {
      matomoUrl: config.matomoUrl,
      tokenFingerprint: tokenFingerprint(config.matomoToken),
      sites: config.siteIds,
      owner: leases.owner,
      prefix: config.redisPrefix,
      redis: describeRedis(config.redis),
    },
    'configuration loaded',
  );
  // Give Redis a moment so the first lease round usually succeeds; a Redis that is down does not block the start.
  // Not events.once(): it rejects on the first 'error' (a refused connect), which would end the process.
  const ready = new Promise<void>((resolve) => redis.once('ready', () => resolve()));
  await Promise.race([ready, delay(Math.min(config.leaseTtlMs, 3000), undefined, { ref: false })]);
  await poller.start();
  const health =
    config.healthPort > 0
      ? await startHealthServer({
          port: config.healthPort,
          status: () => poller.status(),
          ready: () => redis.status === 'ready',
          metrics,
        })
      : undefined;
  if (health) logger.info({ port: health.port }, 'health endpoint on /healthz, /readyz and /metrics');
  return {
    poller,
    logger,
    health,
    async shutdown() {
      await poller.stop();
      await health?.close();
      await close();
    },
  };
}
