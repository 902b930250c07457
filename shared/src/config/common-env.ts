import { bool, str } from 'envalid';
import type { ReadEnvOptions } from './read-env';
import { redisEnvSpec } from './redis-env';
import { logLevels, prettyLogs } from './validators';

/**
 * Variables every service reads. Each `desc` is the one text users see: the
 * tables of docs/CONFIGURATION.md are generated from these specs
 * (`npm run docs:config`, checked by shared/test/config/docs-table.test.ts).
 */
export const commonEnvSpec = {
  ...redisEnvSpec,
  LOG_LEVEL: str({
    choices: logLevels,
    default: 'info',
    desc: 'log level: `fatal`, `error`, `warn`, `info`, `debug`, `trace` or `silent`',
  }),
  MATOMO_LIVE_DEMO: bool({
    default: false,
    desc: "`1` only where the demo runs (`.env.example`'s demo block, `npm run demo`): the gateway accepts the public demo token of `.env.example` (otherwise it refuses to start with it) and the poller does not warn about the simulator's plain `http://`; never in production",
  }),
  LOG_PRETTY: prettyLogs({
    default: false,
    desc: 'human-readable logs instead of JSON lines; needs the `pino-pretty` package, a development dependency the images do not ship (pipe their logs through `npx pino-pretty` instead)',
  }),
};

/**
 * Variables usually given as `NAME_FILE` (a mounted Docker or Kubernetes
 * secret): the secrets, and the multi-line keys. docker-compose.yml passes
 * both forms of each (checked by deploy/test/k8s-config.test.ts).
 */
export const FILE_VARIABLES: readonly string[] = [
  'MATOMO_TOKEN',
  'VALID_TOKENS',
  'JWT_SECRET',
  'JWT_PUBLIC_KEY',
  'JWT_JWKS',
  'REDIS_PASSWORD',
  'REDIS_SENTINEL_PASSWORD',
];

/** How the services' config loaders read their environment. */
export interface LoadConfigOptions extends ReadEnvOptions {
  /** Require one Redis mode (REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES): the split deployment. Default true. */
  requireRedis?: boolean;
}

/** The sites a service handles, in order: MATOMO_SITE_IDS when set, else [MATOMO_SITE_ID]. */
export function configuredSiteIds(e: { MATOMO_SITE_IDS?: number[] | undefined; MATOMO_SITE_ID: number }): number[] {
  return e.MATOMO_SITE_IDS ?? [e.MATOMO_SITE_ID];
}
