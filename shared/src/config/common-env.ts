import { bool, str } from 'envalid';
import type { ReadEnvOptions } from './read-env';
import { logLevels, redisUrl } from './validators';

/** Variables every service reads. */
export const commonEnvSpec = {
  LOG_LEVEL: str({ choices: logLevels, default: 'info', desc: 'pino log level' }),
  REDIS_URL: redisUrl({ default: undefined, desc: 'Redis connection URL', example: 'redis://redis:6379' }),
  REDIS_PREFIX: str({ default: 'matomo-live:', desc: 'prefix of every Redis key and channel' }),
  LOG_PRETTY: bool({ default: false, desc: 'human-readable logs instead of JSON lines' }),
};

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
