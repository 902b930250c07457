import { afterTick, initialTickHealth, type TickPolicy } from '../src/tick-health';

const policy: TickPolicy = {
  fetchIntervalMs: 1000,
  backoffBaseMs: 1000,
  backoffCapMs: 5000,
  authRefusalsBeforeBlock: 1,
  authRetryMs: 300_000,
  random: () => 0.999,
};
const failed = (kind: 'http' | 'auth' | 'auth-blocked' | 'publish' | 'internal') => ({ kind, message: `${kind} failure` });
const at = (now: number, startedAt = now - 200) => ({ now, startedAt });

describe('afterTick', () => {
  it('after success: the rest of the interval, counted from the tick start; health reset, recovery counted', () => {
    const before = {
      ...initialTickHealth(),
      consecutiveFailures: 3,
      authRefusals: 1,
      authBlocked: true,
      authBlockedReason: 'token-refused' as const,
    };
    const { health, verdict } = afterTick(before, { failures: [], published: 2, ...at(10_000, 9_700) }, policy);
    expect(verdict).toEqual({ kind: 'ok', delayMs: 700, recoveredFrom: 3 });
    expect(health).toMatchObject({
      consecutiveFailures: 0,
      authRefusals: 0,
      authBlocked: false,
      authBlockedReason: null,
      lastSuccessAt: 10_000,
    });
  });

  it('a tick longer than the interval ticks again at once', () => {
    expect(afterTick(initialTickHealth(), { failures: [], published: 1, ...at(10_000, 8_000) }, policy).verdict.delayMs).toBe(0);
  });

  it('failures with nothing published back off exponentially up to the cap, loud at the first and every 20th', () => {
    let health = initialTickHealth();
    const delays: number[] = [];
    const loud: boolean[] = [];
    for (let i = 0; i < 20; i++) {
      const next = afterTick(health, { failures: [failed('http')], published: 0, ...at(1000 * i) }, policy);
      health = next.health;
      delays.push(next.verdict.delayMs);
      loud.push(next.verdict.kind === 'failed' && next.verdict.loud);
    }
    expect(delays.slice(0, 5).map((d) => Math.round(d / 100))).toEqual([10, 20, 40, 50, 50]);
    expect(loud.flatMap((l, i) => (l ? [i + 1] : []))).toEqual([1, 20]);
    expect(health.lastError).toEqual({ kind: 'http', message: 'http failure', at: new Date(19_000).toISOString() });
  });

  it('when other sites were published: no back-off', () => {
    const { verdict } = afterTick(
      { ...initialTickHealth(), consecutiveFailures: 5 },
      { failures: [failed('http')], published: 1, ...at(5000, 4900) },
      policy,
    );
    expect(verdict).toEqual({ kind: 'partial', delayMs: 900, loud: false });
  });

  it('when only the publisher failed: never slower than the interval', () => {
    const { verdict } = afterTick(
      { ...initialTickHealth(), consecutiveFailures: 4 },
      { failures: [failed('publish')], published: 0, ...at(1) },
      policy,
    );
    expect(verdict.delayMs).toBeLessThanOrEqual(1000);
  });

  it('a refused token or a blocked IP: one attempt per authRetryMs, with the reason', () => {
    const token = afterTick(initialTickHealth(), { failures: [failed('http'), failed('auth')], published: 0, ...at(1) }, policy);
    expect(token.verdict).toEqual({ kind: 'auth-blocked', delayMs: 300_000, auth: 'auth' });
    expect(token.health).toMatchObject({
      authBlocked: true,
      authBlockedReason: 'token-refused',
      authRefusals: 1,
      lastError: { kind: 'http' },
    });
    const ip = afterTick(initialTickHealth(), { failures: [failed('auth-blocked')], published: 0, ...at(1) }, policy);
    expect(ip.health.authBlockedReason).toBe('ip-blocked');
  });

  it('refusals below authRefusalsBeforeBlock back off as usual; a blocked IP blocks at once', () => {
    const lenient = { ...policy, authRefusalsBeforeBlock: 3 };
    const first = afterTick(initialTickHealth(), { failures: [failed('auth')], published: 0, ...at(1) }, lenient);
    expect(first.verdict.kind).toBe('failed');
    expect(first.health).toMatchObject({ authBlocked: false, authRefusals: 1 });
    expect(afterTick(initialTickHealth(), { failures: [failed('auth-blocked')], published: 0, ...at(1) }, lenient).verdict.kind).toBe(
      'auth-blocked',
    );
  });
});
