/**
 * A latency histogram with ~1 % relative precision and a fixed, tiny size, so
 * load-generator processes can record millions of samples and send the whole
 * histogram to the orchestrator in one IPC message.
 */

/** Bucket i holds values in [GROWTH^(i-1), GROWTH^i) µs; bucket 0 holds < 1 µs. */
const GROWTH = 1.01;
const LOG_GROWTH = Math.log(GROWTH);
/** 2000 buckets reach 1.01^2000 µs ≈ 440 s. */
const BUCKETS = 2000;

export interface HistogramSnapshot {
  counts: number[];
  count: number;
  max: number;
}

export class LatencyHistogram {
  private counts = new Float64Array(BUCKETS);
  private total = 0;
  private maxMs = 0;

  record(ms: number): void {
    if (!(ms >= 0)) ms = 0; // clock skew never yields negative latency in the report
    const us = ms * 1000;
    const i = us < 1 ? 0 : Math.min(BUCKETS - 1, 1 + Math.floor(Math.log(us) / LOG_GROWTH));
    this.counts[i] = (this.counts[i] as number) + 1;
    this.total++;
    if (ms > this.maxMs) this.maxMs = ms;
  }

  get count(): number {
    return this.total;
  }

  get max(): number {
    return this.maxMs;
  }

  merge(other: HistogramSnapshot): void {
    other.counts.forEach((c, i) => {
      this.counts[i] = (this.counts[i] as number) + c;
    });
    this.total += other.count;
    this.maxMs = Math.max(this.maxMs, other.max);
  }

  /** The value (ms) below which `p` (0..1) of the samples fall; the bucket's upper bound. NaN when empty. */
  percentile(p: number): number {
    if (this.total === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil(p * this.total));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i] as number;
      if (seen >= rank) return Math.min(this.maxMs, i === 0 ? 0.001 : GROWTH ** i / 1000);
    }
    return this.maxMs;
  }

  toJSON(): HistogramSnapshot {
    return { counts: Array.from(this.counts), count: this.total, max: this.maxMs };
  }

  reset(): void {
    this.counts.fill(0);
    this.total = 0;
    this.maxMs = 0;
  }
}
