/**
 * ioredis `retryStrategy` of every matomo-live connection: reconnect after
 * 100 ms per attempt so far, at most 2 s. A plain function, so shared needs
 * no ioredis.
 */
export function redisRetryDelay(attempt: number): number {
  return Math.min(100 * attempt, 2000);
}
