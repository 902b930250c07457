import { KeyedCounter, TokenBucket, WindowCounter } from '../../src/admission/rate-limits';

describe('rate limits', () => {
  it('WindowCounter allows `limit` per key per window', () => {
    let now = 0;
    const counter = new WindowCounter(2, 1000, () => now);
    expect([counter.take('a'), counter.take('a'), counter.take('a'), counter.take('b')]).toEqual([true, true, false, true]);
    now = 1000;
    expect(counter.take('a')).toBe(true);
  });

  it('TokenBucket allows a burst, then the rate', () => {
    let now = 0;
    const bucket = new TokenBucket(2, 4, () => now);
    expect(Array.from({ length: 5 }, () => bucket.take())).toEqual([true, true, true, true, false]);
    now = 500;
    expect([bucket.take(), bucket.take()]).toEqual([true, false]);
  });

  it('KeyedCounter caps open connections per key and frees on release', () => {
    const counter = new KeyedCounter(1);
    expect([counter.tryAcquire('t'), counter.tryAcquire('t'), counter.tryAcquire('u')]).toEqual([true, false, true]);
    counter.release('t');
    expect(counter.tryAcquire('t')).toBe(true);
  });
});
