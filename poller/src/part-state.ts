/**
 * One part of a site's Matomo answer over time: its last good value, when it
 * was fetched, and the current failure streak. A failing part keeps its last
 * good value (published as stale) and is retried with a growing delay capped
 * by its own interval, so a broken sub-request does not add load every tick.
 */
export class PartState<T> {
  /** The last good value; undefined until the part first succeeds. */
  value: T | undefined;
  /** When `value` was fetched (poller clock, ms). */
  fetchedAt: number | undefined;
  /** Failures in a row; 0 while the part works. */
  failures = 0;
  /** When the current streak started (poller clock, ms). */
  failingSince: number | undefined;
  /** The latest failure's message and kind. */
  lastError: string | undefined;
  lastKind: string | undefined;
  private lastAttemptAt = Number.NEGATIVE_INFINITY;

  /** Stores a good value; returns the length of the failure streak it ends (0 if none). */
  succeed(value: T, now: number): number {
    const ended = this.failures;
    this.value = value;
    this.fetchedAt = now;
    this.lastAttemptAt = now;
    this.failures = 0;
    this.failingSince = undefined;
    this.lastError = undefined;
    this.lastKind = undefined;
    return ended;
  }

  /** Records a failure (the value stays); true when it starts a streak. */
  fail(message: string, kind: string, now: number): boolean {
    this.lastAttemptAt = now;
    this.lastError = message;
    this.lastKind = kind;
    this.failures++;
    if (this.failures === 1) this.failingSince = now;
    return this.failures === 1;
  }

  /**
   * Whether to ask for this part now: when it has no value, when `expired`
   * (e.g. it belongs to another day), or when it is `intervalMs` old. After
   * failures, not before min(intervalMs, retryBaseMs · 2^(failures−1)) since
   * the last attempt.
   */
  due(now: number, intervalMs: number, retryBaseMs: number, expired = false): boolean {
    if (this.failures > 0) return now - this.lastAttemptAt >= Math.min(intervalMs, retryBaseMs * 2 ** (this.failures - 1));
    if (this.value === undefined || this.fetchedAt === undefined || expired) return true;
    return now - this.fetchedAt >= intervalMs;
  }

  /** Whole seconds since the value was fetched; null without a value. */
  ageSeconds(now: number): number | null {
    return this.fetchedAt === undefined ? null : Math.max(0, Math.floor((now - this.fetchedAt) / 1000));
  }
}
