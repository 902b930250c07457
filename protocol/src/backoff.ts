/**
 * Full-jitter exponential backoff, used by the client's reconnects and the
 * poller's retries.
 */
export interface BackoffOptions {
  /** Upper bound of the first retry's delay, ms. */
  initialMs: number;
  /** Upper bound of any delay, ms. */
  maxMs: number;
  /** Uniform in [0, 1): Math.random unless injected. */
  random: () => number;
}

/**
 * "Full jitter" (AWS architecture blog): a uniform delay in
 * [0, min(max, initial · 2^attempt)), so a fleet of screens that lost the same
 * gateway does not come back in lockstep. `attempt` counts from 0.
 */
export function backoffDelay(attempt: number, { initialMs, maxMs, random }: BackoffOptions): number {
  const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.floor(r * ceiling);
}
