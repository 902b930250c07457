import { str } from 'envalid';
import type { ReadEnvOptions } from './read-env';
import { logLevels, prettyLogs, redisUrl } from './validators';

/**
 * Variables every service reads. Each `desc` is the one text users see: the
 * README's configuration tables are generated from these specs
 * (`npm run docs:config`, checked by deploy/test/k8s-config.test.ts).
 */
export const commonEnvSpec = {
  REDIS_URL: redisUrl({
    default: undefined,
    desc: 'Redis connection URL (`redis://` or `rediss://`); required except in the single-process mode (`npm start`). A gateway started before Redis runs and reports not ready until it connects',
    example: 'redis://redis:6379',
  }),
  REDIS_PREFIX: str({ default: 'matomo-live:', desc: 'prefix of every Redis key and channel; the poller and its gateways must agree' }),
  LOG_LEVEL: str({
    choices: logLevels,
    default: 'info',
    desc: 'log level: `fatal`, `error`, `warn`, `info`, `debug`, `trace` or `silent`',
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
export const FILE_VARIABLES: readonly string[] = ['MATOMO_TOKEN', 'VALID_TOKENS', 'JWT_SECRET', 'JWT_PUBLIC_KEY', 'JWT_JWKS'];

/** How the services' config loaders read their environment. */
export interface LoadConfigOptions extends ReadEnvOptions {
  /** Require REDIS_URL (the split deployment). Default true. */
  requireRedis?: boolean;
}

/**
 * The error line when the split deployment's REDIS_URL is missing, else
 * undefined. `value` is REDIS_URL raw or validated; blank counts as unset.
 */
export function missingRedisUrl(value: string | undefined, required = true): string | undefined {
  if (!required || (value ?? '').trim() !== '') return undefined;
  return 'REDIS_URL: required but not set (e.g. redis://redis:6379); or run `npm start` for the single-process mode';
}

/** The sites a service handles, in order: MATOMO_SITE_IDS when set, else [MATOMO_SITE_ID]. */
export function configuredSiteIds(e: { MATOMO_SITE_IDS?: number[] | undefined; MATOMO_SITE_ID: number }): number[] {
  return e.MATOMO_SITE_IDS ?? [e.MATOMO_SITE_ID];
}
