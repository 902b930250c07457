/**
 * Delay before retry number `failures` (1 = after the first failure):
 * "full jitter" — uniformly random in [0, min(cap, base·2^(failures-1))] — so
 * replicas that failed together do not retry together, and the poller is back
 * within `capMs` of Matomo recovering.
 */
export function fullJitterDelay(failures: number, baseMs: number, capMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(Math.max(failures - 1, 0), 30));
  return Math.floor(random() * ceiling);
}
