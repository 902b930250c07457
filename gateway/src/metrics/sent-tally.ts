import type { Counter } from 'prom-client';

/**
 * Messages and bytes written to clients, as plain numbers bumped once per
 * write: a prom-client inc() per client per change cost measurable CPU at
 * 10k clients (docs/BENCHMARKS.md), so the counters fold the tally in when
 * scraped.
 */
export class SentTally {
  messages = 0;
  bytes = 0;
  private readonly reported = { messages: 0, bytes: 0 };

  /** For a Counter's `collect`: adds to `counter` what was written since the last scrape. */
  fold(key: 'messages' | 'bytes', counter: Counter): void {
    counter.inc(this[key] - this.reported[key]);
    this.reported[key] = this[key];
  }
}
