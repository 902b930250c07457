import { backoffDelay } from '@matomo-live/client';

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
