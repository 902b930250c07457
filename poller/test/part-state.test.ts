import { PartState } from '../src/part-state';

describe('PartState', () => {
  it('is due without a value, when expired, and once its interval has passed', () => {
    const part = new PartState<number>();
    expect(part.due(0, 1000, 100)).toBe(true);
    part.succeed(7, 10_000);
    expect(part.due(10_999, 1000, 100)).toBe(false);
    expect(part.due(10_999, 1000, 100, true)).toBe(true);
    expect(part.due(11_000, 1000, 100)).toBe(true);
    expect(part.ageSeconds(12_999)).toBe(2);
  });

  it('keeps its value through failures and retries after base·2^(n−1), capped by its interval', () => {
    const part = new PartState<number>();
    part.succeed(7, 0);
    expect(part.fail('lock timeout', 'api-error', 60_000)).toBe(true);
    expect(part.fail('lock timeout', 'api-error', 60_100)).toBe(false);
    expect(part).toMatchObject({ value: 7, failures: 2, failingSince: 60_000, lastError: 'lock timeout', lastKind: 'api-error' });
    // Second failure at 60 100: next attempt 200 ms later, even though the value is far older than the interval.
    expect(part.due(60_299, 60_000, 100)).toBe(false);
    expect(part.due(60_300, 60_000, 100)).toBe(true);
    for (let i = 0; i < 20; i++) part.fail('lock timeout', 'api-error', 70_000);
    expect(part.due(70_000 + 999, 1000, 100)).toBe(false);
    expect(part.due(70_000 + 1000, 1000, 100)).toBe(true);
    expect(part.succeed(8, 80_000)).toBe(22);
    expect(part).toMatchObject({ value: 8, failures: 0, failingSince: undefined, lastError: undefined });
  });

  it('has no age before its first value', () => {
    expect(new PartState().ageSeconds(5)).toBeNull();
  });
});
