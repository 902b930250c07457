import { startMatomoSim, type MatomoSim } from '@matomo-live/matomo-sim';
import { createRedisPoller, type RedisPoller } from '@matomo-live/poller';
import { loadPollerConfig, type Logger } from '@matomo-live/shared';
import { gatewayConfigFrom, startGateway, type RunningGateway } from '@matomo-live/test-support/gateway';
import { redisScope, type RedisScope } from '@matomo-live/test-support/redis';
import { singleNode } from '@matomo-live/test-support/redis-ha';
import { waitFor } from '@matomo-live/test-support/wait-for';

/** The split deployment in one test process, over one real Redis: the Matomo simulator, a poller with its Redis publisher, a gateway with its Redis feed. */
export interface SplitPipeline {
  sim: MatomoSim;
  redis: RedisScope;
  poller: RedisPoller;
  gateway: RunningGateway;
  /** Stops the gateway, the poller this object holds then (a test may swap in a new one), the simulator and the Redis scope, in that order. */
  stop(): Promise<void>;
}

export interface SplitPipelineOptions {
  /** Name of the Redis scope (its key prefix). */
  scope: string;
  /** The simulator's token, given to the poller. */
  simToken: string;
  /** VALID_TOKENS of the gateway. */
  token: string;
  /** The poller's logger. */
  logger: Logger;
}

/** Site 1 with a Paris timezone and a few visits today; the poller ticks every 150 ms; resolves once the gateway has reached Redis. */
export async function startSplitPipeline({ scope, simToken, token, logger }: SplitPipelineOptions): Promise<SplitPipeline> {
  const sim = await startMatomoSim({ token: simToken, siteIds: [1], timezone: 'Europe/Paris' });
  sim.setSummary({ today: { nb_visits: 3, sum_visit_length: 30 } });
  const redis = await redisScope(scope);
  const config = loadPollerConfig(
    {
      MATOMO_URL: sim.url,
      MATOMO_TOKEN: simToken,
      REDIS_URL: redis.url,
      REDIS_PREFIX: redis.prefix,
      FETCH_INTERVAL: '150',
      LEASE_TTL: '2000',
      POLLER_HEALTH_PORT: '0',
    },
    { dotenv: false },
  );
  const poller = createRedisPoller({ config, redis: singleNode(redis.url), logger });
  await poller.poller.start();
  const gateway = await startGateway(
    gatewayConfigFrom({
      REDIS_URL: redis.url,
      REDIS_PREFIX: redis.prefix,
      VALID_TOKENS: token,
      PORT: '0',
      HOST: '127.0.0.1',
      DASHBOARD_DIR: 'off',
    }),
  );
  // A gateway refuses upgrades (503) until its feed has reached Redis once (issue 14).
  await waitFor(() => gateway.gateway.isReady(), 'the gateway subscribed to Redis');
  const pipeline: SplitPipeline = {
    sim,
    redis,
    poller,
    gateway,
    async stop() {
      await pipeline.gateway.stop();
      await pipeline.poller.poller.stop();
      await pipeline.poller.close();
      await pipeline.sim.close();
      await pipeline.redis.close();
    },
  };
  return pipeline;
}
