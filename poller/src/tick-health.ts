import { backoffDelay } from '@matomo-live/protocol';
import type { PollerStatus, TickFailureKind } from './poller-status';

/** The health the ticks keep (what /healthz reports about polling as a whole). */
export interface TickHealth {
  lastSuccessAt: number | undefined;
  consecutiveFailures: number;
  /** Token refusals in a row. */
  authRefusals: number;
  authBlocked: boolean;
  authBlockedReason: PollerStatus['authBlockedReason'];
  lastError: PollerStatus['lastError'];
}

export const initialTickHealth = (): TickHealth => ({
  lastSuccessAt: undefined,
  consecutiveFailures: 0,
  authRefusals: 0,
  authBlocked: false,
  authBlockedReason: null,
  lastError: null,
});

/** The back-off and auth-block policy (PollerTiming, FETCH_INTERVAL). */
export interface TickPolicy {
  fetchIntervalMs: number;
  backoffBaseMs: number;
  backoffCapMs: number;
  authRefusalsBeforeBlock: number;
  authRetryMs: number;
  random: () => number;
}

/** How a tick ended: its failures (kind and message; the first one is reported) and how many sites were published. */
export interface TickResult {
  failures: ReadonlyArray<{ kind: TickFailureKind; message: string }>;
  published: number;
  startedAt: number;
  now: number;
}

/** What to do after a tick: when to tick again, and what to say. */
export type TickVerdict =
  /** All published; `recoveredFrom` failures in a row before (0: none). */
  | { kind: 'ok'; delayMs: number; recoveredFrom: number }
  /** Matomo refuses the token or blocks this IP: one slow attempt per authRetryMs. */
  | { kind: 'auth-blocked'; delayMs: number; auth: 'auth' | 'auth-blocked' }
  /** Some sites published, some failed (no back-off), or none (back-off); `loud`: worth a line at this count. */
  | { kind: 'partial' | 'failed'; delayMs: number; loud: boolean };

/**
 * Pure: the health after a tick and the delay to the next one — the interval
 * (counted from the tick's start) after success, a back-off after failures,
 * authRetryMs while auth fails.
 */
export function afterTick(health: TickHealth, result: TickResult, policy: TickPolicy): { health: TickHealth; verdict: TickVerdict } {
  const { failures, published, startedAt, now } = result;
  const onTime = Math.max(0, policy.fetchIntervalMs - (now - startedAt));
  if (failures.length === 0) {
    return {
      health: { ...health, consecutiveFailures: 0, authRefusals: 0, authBlocked: false, authBlockedReason: null, lastSuccessAt: now },
      verdict: { kind: 'ok', delayMs: onTime, recoveredFrom: health.consecutiveFailures },
    };
  }
  const first = failures[0]!;
  const auth = failures.find((f) => f.kind === 'auth' || f.kind === 'auth-blocked');
  const next: TickHealth = {
    ...health,
    consecutiveFailures: health.consecutiveFailures + 1,
    lastError: { kind: first.kind, message: first.message, at: new Date(now).toISOString() },
    authRefusals: auth ? health.authRefusals + 1 : 0,
  };
  if (auth && (auth.kind === 'auth-blocked' || next.authRefusals >= policy.authRefusalsBeforeBlock)) {
    const kind = auth.kind as 'auth' | 'auth-blocked';
    return {
      health: { ...next, authBlocked: true, authBlockedReason: kind === 'auth' ? 'token-refused' : 'ip-blocked' },
      verdict: { kind: 'auth-blocked', delayMs: policy.authRetryMs, auth: kind },
    };
  }
  const loud = next.consecutiveFailures === 1 || next.consecutiveFailures % 20 === 0;
  // Matomo answers (other sites were published): no back-off; the failing sites stay in /healthz.
  if (published > 0) return { health: next, verdict: { kind: 'partial', delayMs: onTime, loud } };
  // Retry n (n = failures so far) waits up to min(cap, base·2^(n-1)): backoffDelay counts attempts from 0.
  const backoff = backoffDelay(next.consecutiveFailures - 1, {
    initialMs: policy.backoffBaseMs,
    maxMs: policy.backoffCapMs,
    random: policy.random,
  });
  // Backing off spares Matomo; when only Redis failed (a failover), keep the normal pace so the next publish follows the promotion.
  const delayMs = failures.every((f) => f.kind === 'publish') ? Math.min(backoff, policy.fetchIntervalMs) : backoff;
  return { health: next, verdict: { kind: 'failed', delayMs, loud } };
}
