import { asStatusMessage, STALE_REASON_TEXT, STALE_REASONS, staleAfterMs, staleReasonText, type StatusMessage } from '../src/status';

const live: StatusMessage = { type: 'status', site: 1, state: 'live', reason: null, data_age_ms: 1200, stale_after_ms: 15_000 };

describe('status messages', () => {
  it('are stale after three polling intervals, never under 15 s', () => {
    expect(staleAfterMs(5_000)).toBe(15_000);
    expect(staleAfterMs(1_000)).toBe(15_000);
    expect(staleAfterMs(60_000)).toBe(180_000);
  });

  it('read back what the gateway sends, live or stale', () => {
    expect(asStatusMessage(JSON.parse(JSON.stringify(live)))).toEqual(live);
    const stale = { ...live, state: 'stale', reason: 'matomo_unreachable', data_age_ms: null };
    expect(asStatusMessage(stale)).toEqual(stale);
  });

  it('refuse anything else, so a client ignores it', () => {
    for (const bad of [
      null,
      'status',
      [],
      { ...live, type: 'snapshot' },
      { ...live, site: 0 },
      { ...live, site: 1.5 },
      { ...live, state: 'dead' },
      { ...live, state: 'stale', reason: null },
      { ...live, state: 'stale', reason: 42 },
      { ...live, data_age_ms: -1 },
      { ...live, data_age_ms: '5' },
      { ...live, stale_after_ms: 0 },
      { ...live, stale_after_ms: undefined },
    ]) {
      expect(asStatusMessage(bad)).toBeUndefined();
    }
  });

  it("accept a later version's reason, shown with a generic text", () => {
    const later = { ...live, state: 'stale', reason: 'matomo_on_fire' };
    expect(asStatusMessage(later)).toEqual(later);
    expect(staleReasonText('matomo_on_fire')).toBe('for a reason this screen does not know');
    expect(staleReasonText('auth_refused')).toBe(STALE_REASON_TEXT.auth_refused);
  });

  it('have a text for every reason', () => {
    for (const reason of STALE_REASONS) expect(STALE_REASON_TEXT[reason]).toMatch(/\w/);
    expect(Object.keys(STALE_REASON_TEXT).sort()).toEqual([...STALE_REASONS].sort());
  });
});
