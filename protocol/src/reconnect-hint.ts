/**
 * Reconnect pacing owned by the server. When a gateway ends a connection it
 * wants back later — a drain (1001), an overload refusal (1013), a rebalance
 * (1001) — the close frame's reason is a small JSON object instead of the
 * table's text:
 *
 *     {"retry_after_ms":1234,"cause":"rebalance"}
 *
 * `retry_after_ms` is how long the client waits before its next attempt (the
 * server has already spread it with jitter over the clients it closes, so
 * clients use it as is, instead of their own backoff for that attempt);
 * `cause` says why (`drain`, `rebalance`, `overload`; informative). The close
 * code keeps its meaning from CLOSE_CODE_RULES: a hint changes when a client
 * reconnects, never whether. Old clients ignore the reason and keep their own
 * backoff; a reason that is not a hint (any other text) means "no hint".
 */

/** Why the server asks a client to come back later. */
export type ReconnectCause = 'drain' | 'rebalance' | 'overload';

export interface ReconnectHint {
  /** Wait this long before reconnecting, ms (0 … MAX_RECONNECT_HINT_MS). */
  retryAfterMs: number;
  /** Why, when the server said so. */
  cause?: string;
}

/** The longest wait a hint may ask for, ms; longer values are clamped to it (a wall screen must not go dark for long). */
export const MAX_RECONNECT_HINT_MS = 300_000;

/** The close reason carrying `hint` (at most 60 bytes, well within a close frame's 123). */
export function encodeReconnectHint(hint: { retryAfterMs: number; cause?: ReconnectCause }): string {
  const ms = Math.round(Math.min(Math.max(hint.retryAfterMs, 0), MAX_RECONNECT_HINT_MS));
  return hint.cause === undefined ? `{"retry_after_ms":${ms}}` : `{"retry_after_ms":${ms},"cause":"${hint.cause}"}`;
}

/** The hint in a close reason, or undefined when the reason is not one (plain text, bad JSON, no usable number). */
export function parseReconnectHint(reason: string | undefined | null): ReconnectHint | undefined {
  if (typeof reason !== 'string' || !reason.startsWith('{') || reason.length > 123) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(reason);
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object') return undefined;
  const { retry_after_ms: ms, cause } = parsed as { retry_after_ms?: unknown; cause?: unknown };
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) return undefined;
  return {
    retryAfterMs: Math.min(Math.round(ms), MAX_RECONNECT_HINT_MS),
    ...(typeof cause === 'string' ? { cause } : {}),
  };
}

/** A uniform draw in [fromMs, toMs): how a server spreads the hints of the clients it closes together. */
export function jitteredDelay(fromMs: number, toMs: number, random: () => number = Math.random): number {
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.floor(fromMs + r * Math.max(0, toMs - fromMs));
}
