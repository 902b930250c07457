import { SeqFilter } from '@matomo-live/client';

describe('SeqFilter', () => {
  it('delivers growing seqs and drops repeats within a connection', () => {
    const filter = new SeqFilter();
    filter.newConnection();
    expect([5, 5, 6, 6, 9].map((seq) => filter.judge(seq))).toEqual(['deliver', 'duplicate', 'deliver', 'duplicate', 'deliver']);
    expect(filter.lastSeq).toBe(9);
  });

  it('drops the resent current snapshot after a reconnect', () => {
    const filter = new SeqFilter();
    filter.newConnection();
    filter.judge(4);
    filter.newConnection();
    expect(filter.judge(4)).toBe('duplicate');
    expect(filter.judge(5)).toBe('deliver');
  });

  it('treats a lower seq as the first message of a new connection as a stream reset', () => {
    const filter = new SeqFilter();
    filter.newConnection();
    filter.judge(40);
    filter.newConnection();
    expect(filter.judge(2)).toBe('reset');
    expect(filter.lastSeq).toBe(2);
    expect(filter.judge(3)).toBe('deliver');
  });

  it('follows a reset within a connection: a poisoned seq (2^53 - 1) overwritten by the poller does not silence it', () => {
    const filter = new SeqFilter();
    filter.newConnection();
    expect(filter.judge(1_700_000_000_000)).toBe('deliver');
    expect(filter.judge(Number.MAX_SAFE_INTEGER)).toBe('deliver');
    expect(filter.judge(1_700_000_000_500)).toBe('reset');
    expect(filter.judge(1_700_000_000_600)).toBe('deliver');
    expect(filter.lastSeq).toBe(1_700_000_000_600);
  });
});
