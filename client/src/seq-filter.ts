/** What to do with a snapshot, given its seq. */
export type SeqVerdict = 'deliver' | 'duplicate' | 'reset';

/**
 * Keeps the last delivered seq. A repeat is dropped; a higher seq is new. A
 * lower seq is a reset: the gateway sends seqs in order and repeats only the
 * current snapshot on a new connection, so a lower one means the stream
 * started over (Redis came back empty, or a poisoned seq was overwritten) and
 * the new, lower stream is the truth from then on — within a connection too,
 * or one bad seq would silence the client until it reconnects.
 */
export class SeqFilter {
  private last: number | null = null;

  /** Call when a new connection opens (kept for callers: the verdicts no longer depend on it). */
  newConnection(): void {}

  judge(seq: number): SeqVerdict {
    const last = this.last;
    if (last === null || seq > last) {
      this.last = seq;
      return 'deliver';
    }
    if (seq === last) return 'duplicate';
    this.last = seq;
    return 'reset';
  }

  get lastSeq(): number | null {
    return this.last;
  }
}
