import { closeRule, CloseCode } from '../src/close-codes';
import { encodeReconnectHint, jitteredDelay, MAX_RECONNECT_HINT_MS, parseReconnectHint } from '../src/reconnect-hint';

describe('reconnect hints in close reasons', () => {
  it('round-trips a delay and a cause, as JSON within a close frame', () => {
    const reason = encodeReconnectHint({ retryAfterMs: 1234, cause: 'rebalance' });
    expect(reason).toBe('{"retry_after_ms":1234,"cause":"rebalance"}');
    expect(JSON.parse(reason)).toEqual({ retry_after_ms: 1234, cause: 'rebalance' });
    expect(parseReconnectHint(reason)).toEqual({ retryAfterMs: 1234, cause: 'rebalance' });
    expect(parseReconnectHint(encodeReconnectHint({ retryAfterMs: 0 }))).toEqual({ retryAfterMs: 0 });
  });

  it('stays far below the 123 bytes a close reason may have, even at the longest', () => {
    const longest = encodeReconnectHint({ retryAfterMs: 10 ** 12, cause: 'rebalance' });
    expect(Buffer.byteLength(longest)).toBeLessThanOrEqual(60);
    expect(parseReconnectHint(longest)?.retryAfterMs).toBe(MAX_RECONNECT_HINT_MS);
  });

  it('rounds and clamps what it encodes and what it reads', () => {
    expect(encodeReconnectHint({ retryAfterMs: -5 })).toBe('{"retry_after_ms":0}');
    expect(encodeReconnectHint({ retryAfterMs: 12.6 })).toBe('{"retry_after_ms":13}');
    expect(parseReconnectHint('{"retry_after_ms":99999999}')).toEqual({ retryAfterMs: MAX_RECONNECT_HINT_MS });
    expect(parseReconnectHint('{"retry_after_ms":2.4,"cause":7}')).toEqual({ retryAfterMs: 2 });
  });

  it.each([
    ['the table text of 1001', 'Server going away'],
    ['empty', ''],
    ['undefined', undefined],
    ['bad JSON', '{"retry_after_ms":'],
    ['no number', '{"retry_after_ms":"soon"}'],
    ['negative', '{"retry_after_ms":-1}'],
    ['infinite', '{"retry_after_ms":1e999}'],
    ['null', 'null'],
    ['an array', '[1]'],
    ['too long for a close frame', `{"retry_after_ms":1,"x":"${'a'.repeat(120)}"}`],
  ])('is no hint when the reason is %s', (_what, reason) => {
    expect(parseReconnectHint(reason)).toBeUndefined();
  });

  it('changes nothing about what a code means: 1001 and 1013 reconnect, with or without a hint', () => {
    expect(closeRule(CloseCode.GoingAway).action).toBe('reconnect');
    expect(closeRule(CloseCode.TryAgainLater).action).toBe('reconnect');
    expect(closeRule(CloseCode.GoingAway).mayCarryHint).toBe(true);
    expect(closeRule(CloseCode.InvalidToken).mayCarryHint).toBe(false);
  });

  it('draws jitter uniformly in [from, to)', () => {
    expect(jitteredDelay(100, 500, () => 0)).toBe(100);
    expect(jitteredDelay(100, 500, () => 0.5)).toBe(300);
    expect(jitteredDelay(100, 500, () => 0.999999)).toBe(499);
    expect(jitteredDelay(500, 100, () => 0.7)).toBe(500);
  });
});
