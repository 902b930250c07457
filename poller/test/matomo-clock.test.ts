import { CLOCK_TOLERANCE_MS, estimateMatomoOffset, offsetChanged } from '../src/matomo-clock';

describe('estimateMatomoOffset', () => {
  it('is 0 within the tolerance (the Date header has whole seconds)', () => {
    expect(estimateMatomoOffset(10_000, 10_000, 10_100)).toBe(0);
    expect(estimateMatomoOffset(8_600, 10_000, 10_100)).toBe(0);
  });

  it('measures a skew against the middle of the request, +500 ms for the truncated header', () => {
    expect(estimateMatomoOffset(70_000, 10_000, 10_200)).toBe(70_000 + 500 - 10_100);
    expect(estimateMatomoOffset(0, 10_000, 10_000)).toBe(-9_500);
  });

  it('cannot tell without a header or from a slow request', () => {
    expect(estimateMatomoOffset(undefined, 0, 10)).toBeUndefined();
    expect(estimateMatomoOffset(90_000, 0, CLOCK_TOLERANCE_MS + 1)).toBeUndefined();
  });
});

describe('offsetChanged', () => {
  it('only a move of the tolerance or more is news', () => {
    expect(offsetChanged(0, 1999)).toBe(false);
    expect(offsetChanged(0, -2000)).toBe(true);
    expect(offsetChanged(60_000, 0)).toBe(true);
  });
});
