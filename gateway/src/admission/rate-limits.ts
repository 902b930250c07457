/**
 * Fixed-window counter per key (connection attempts per client IP). Windows
 * are swept lazily, so memory is bounded by the keys seen in one window.
 */
export class WindowCounter {
  private counts = new Map<string, number>();
  private windowStart: number;

  /**
   * @param limit attempts allowed per window
   * @param windowMs window length. Default 60000.
   * @param now clock, ms. Default Date.now.
   */
  constructor(
    private readonly limit: number,
    private readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {
    this.windowStart = now();
  }

  /** Counts one attempt; false when the key is over its limit in this window. */
  take(key: string): boolean {
    const t = this.now();
    if (t - this.windowStart >= this.windowMs) {
      this.counts = new Map();
      this.windowStart = t;
    }
    const count = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, count);
    return count <= this.limit;
  }
}

/** Token bucket for one client's messages: `rate` per second, bursts up to `burst`. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = burst;
    this.last = now();
  }

  take(): boolean {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.rate);
    this.last = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** Counts open connections per key (per token) against a cap. */
export class KeyedCounter {
  private readonly counts = new Map<string, number>();

  constructor(private readonly cap: number) {}

  tryAcquire(key: string): boolean {
    const count = this.counts.get(key) ?? 0;
    if (count >= this.cap) return false;
    this.counts.set(key, count + 1);
    return true;
  }

  release(key: string): void {
    const count = (this.counts.get(key) ?? 0) - 1;
    if (count <= 0) this.counts.delete(key);
    else this.counts.set(key, count);
  }
}
