/** jest's globalSetup (jest.config.js): the run's Redis, once for every test file (run-redis.ts). */
// First: builds the harness that run-redis.ts loads from its dist/ (see build-harness.ts).
import './build-harness';
import { RUN_REDIS_URL_VARIABLE, startRunRedis, type RunRedis } from './run-redis';

declare global {
  // Read by jest-global-teardown.ts: jest runs both in its main process.
  var matomoLiveRunRedis: RunRedis | undefined;
}

export default async function globalSetup(): Promise<void> {
  const redis = await startRunRedis();
  globalThis.matomoLiveRunRedis = redis;
  process.env[RUN_REDIS_URL_VARIABLE] = redis.url;
  process.stderr.write(`\ntest Redis: ${redis.description}\n`);
}
