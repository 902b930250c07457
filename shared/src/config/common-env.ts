import { bool, str } from 'envalid';
import { logLevels, redisUrl } from './validators';

/** Variables every service reads. */
export const commonEnvSpec = {
  LOG_LEVEL: str({ choices: logLevels, default: 'info', desc: 'pino log level' }),
  REDIS_URL: redisUrl({ default: undefined, desc: 'Redis connection URL', example: 'redis://redis:6379' }),
  REDIS_PREFIX: str({ default: 'matomo-live:', desc: 'prefix of every Redis key and channel' }),
  LOG_PRETTY: bool({ default: false, desc: 'human-readable logs instead of JSON lines' }),
};
