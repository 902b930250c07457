import { backoffDelay } from '../src/backoff';

/** The poller's use (poller.ts): retry number `failures` (1 = after the first failure) is attempt failures − 1. */
const fullJitterDelay = (failures: number, initialMs: number, maxMs: number, random: () => number) =>
  backoffDelay(failures - 1, { initialMs, maxMs, random });

describe('backoffDelay as the poller retries', () => {
  it('doubles the ceiling per failure up to the cap', () => {
    const top = () => 0.999999;
    expect([1, 2, 3, 4, 5, 6].map((n) => fullJitterDelay(n, 250, 5000, top))).toEqual([249, 499, 999, 1999, 3999, 4999]);
  });

  it('draws uniformly below the ceiling', () => {
    expect(fullJitterDelay(3, 250, 5000, () => 0)).toBe(0);
    expect(fullJitterDelay(3, 250, 5000, () => 0.5)).toBe(500);
  });

  it('stays capped after very many failures', () => {
    expect(fullJitterDelay(10_000, 1000, 5000, () => 0.999)).toBeLessThan(5000);
  });
});
