/** What to do with a snapshot, given its seq. */
export type SeqVerdict = 'deliver' | 'duplicate' | 'stale' | 'reset';

/**
 * Keeps the last delivered seq. Within one connection seq only grows, so a
 * repeat or a lower seq is dropped. The first snapshot of a new connection is
 * the gateway's current one: equal to the last seq means we have it already;
 * lower means the stream was reset (Redis flushed, new site state), and the
 * new, lower stream is the truth from then on.
 */
export class SeqFilter {
  private last: number | null = null;
  private firstOfConnection = true;

  /** Call when a new connection opens. */
  newConnection(): void {
    this.firstOfConnection = true;
  }

  judge(seq: number): SeqVerdict {
    const first = this.firstOfConnection;
    this.firstOfConnection = false;
    const last = this.last;
    if (last === null || seq > last) {
      this.last = seq;
      return 'deliver';
    }
    if (seq === last) return 'duplicate';
    if (first) {
      this.last = seq;
      return 'reset';
    }
    return 'stale';
  }

  get lastSeq(): number | null {
    return this.last;
  }
}
