import { formatCount, statusText, timeOfDay } from '../../src/ui/format';

describe('dashboard formatting', () => {
  it('groups counts and shows a dash for missing ones', () => {
    expect(formatCount(1234567)).toBe('1,234,567');
    expect(formatCount(0)).toBe('0');
    expect(formatCount(undefined)).toBe('–');
    expect(formatCount(Number.NaN)).toBe('–');
  });

  it("takes the time of day from Matomo's site-local date time", () => {
    expect(timeOfDay('2024-07-04 18:43:37')).toBe('18:43:37');
    expect(timeOfDay('garbage')).toBe('garbage');
  });

  it('describes each connection state, naming auth failures', () => {
    expect(statusText({ state: 'live', attempt: 0 })).toBe('Live');
    expect(statusText({ state: 'reconnecting', attempt: 2, retryInMs: 1500, code: 1006 })).toBe(
      'Reconnecting (attempt 2, next try within 2 s)',
    );
    expect(statusText({ state: 'closed', attempt: 0, code: 4001, authFailed: true })).toBe('Disconnected: Invalid token');
    expect(statusText({ state: 'closed', attempt: 0, code: 4003, authFailed: true })).toBe('Disconnected: Site not allowed for this token');
    expect(statusText({ state: 'closed', attempt: 0, code: 1000, reason: 'client closed' })).toBe('Disconnected');
    expect(statusText({ state: 'closed', attempt: 0, reason: 'Waiting for a token' })).toBe('Waiting for a token');
  });
});
