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

describe('backoffDelay (full jitter)', () => {
  const base = { initialMs: 1000, maxMs: 10_000 };

  it('scales a uniform draw by a ceiling that doubles from initialMs up to maxMs', () => {
    const ceilings = [0, 1, 2, 3, 4, 5, 20].map((attempt) => backoffDelay(attempt, { ...base, random: () => 0.999999 }));
    expect(ceilings).toEqual([999, 1999, 3999, 7999, 9999, 9999, 9999]);
    expect(backoffDelay(3, { ...base, random: () => 0.25 })).toBe(2000);
    expect(backoffDelay(7, { ...base, random: () => 0 })).toBe(0);
  });

  it('stays within [0, min(max, initial·2^n)) for real random draws and actually spreads', () => {
    for (let attempt = 0; attempt < 12; attempt += 1) {
      const ceiling = Math.min(10_000, 1000 * 2 ** attempt);
      const delays = Array.from({ length: 200 }, () => backoffDelay(attempt, { ...base, random: Math.random }));
      for (const delay of delays) {
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThan(ceiling);
      }
      // 200 uniform draws over a range ≥ 1 s are never all within a tenth of it.
      expect(Math.max(...delays) - Math.min(...delays)).toBeGreaterThan(ceiling / 10);
    }
  });

  it('clamps a misbehaving random source into range', () => {
    expect(backoffDelay(0, { ...base, random: () => 7 })).toBe(1000);
    expect(backoffDelay(0, { ...base, random: () => -1 })).toBe(0);
  });
});
