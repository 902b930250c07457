import { STALE_REASON_TEXT, STALE_REASONS, type StatusMessage } from '@matomo-live/protocol';
import { formatCount, lastUpdateText, siteTimeOfDay, staleText, statusText, timeOfDay } from '../../src/ui/format';

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

  it("shows an instant on the site's 24-hour clock, labelled with the site's zone", () => {
    // 07:43:53 UTC in July: 09:43:53 in Paris (CEST), whatever the zone and locale of the machine.
    const instant = '2026-07-04T07:43:53Z';
    expect(siteTimeOfDay(instant, 'Europe/Paris')).toEqual({ time: '09:43:53', zone: 'Europe/Paris' });
    expect(siteTimeOfDay(instant, 'America/New_York')).toEqual({ time: '03:43:53', zone: 'America/New_York' });
    // An afternoon is 24-hour, never "3:43:53 PM".
    expect(siteTimeOfDay('2026-07-04T13:43:53Z', 'UTC+2')).toEqual({ time: '15:43:53', zone: 'UTC+2' });
    expect(siteTimeOfDay(instant, 'UTC-4.5')).toEqual({ time: '03:13:53', zone: 'UTC-4.5' });
    expect(siteTimeOfDay(instant, 'UTC+5:30')).toEqual({ time: '13:13:53', zone: 'UTC+5:30' });
    expect(siteTimeOfDay(Date.parse(instant), 'UTC')).toEqual({ time: '07:43:53', zone: 'UTC' });
    // Midnight is 00, not 24.
    expect(siteTimeOfDay('2026-07-03T22:00:00Z', 'Europe/Paris').time).toBe('00:00:00');
    // No zone (a fields= connection without timezone) or an unknown one: UTC, and said so.
    expect(siteTimeOfDay(instant, undefined)).toEqual({ time: '07:43:53', zone: 'UTC' });
    expect(siteTimeOfDay(instant, 'Mars/Olympus_Mons')).toEqual({ time: '07:43:53', zone: 'UTC' });
    expect(siteTimeOfDay('not a date', 'Europe/Paris')).toEqual({ time: '–', zone: 'Europe/Paris' });
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

  it('says how long ago the data was read, like the rest of the page: just now, s, min, h', () => {
    expect(lastUpdateText(null)).toBe('no data yet');
    expect(lastUpdateText(0)).toBe('last update just now');
    expect(lastUpdateText(4_999)).toBe('last update just now');
    expect(lastUpdateText(5_000)).toBe('last update 5 s ago');
    expect(lastUpdateText(59_999)).toBe('last update 59 s ago');
    expect(lastUpdateText(60_000)).toBe('last update 1 min ago');
    expect(lastUpdateText(3 * 60_000 + 59_000)).toBe('last update 3 min ago');
    expect(lastUpdateText(3_600_000)).toBe('last update 1 h ago');
    expect(lastUpdateText(50 * 3_600_000)).toBe('last update 50 h ago');
  });

  it("writes the stale banner's line with the reason's text", () => {
    const stale = (fields: Partial<StatusMessage>): StatusMessage => ({
      type: 'status',
      site: 1,
      state: 'stale',
      reason: 'matomo_unreachable',
      data_age_ms: 180_000,
      stale_after_ms: 15_000,
      ...fields,
    });
    expect(staleText(stale({}))).toBe('Data delayed — last update 3 min ago: Matomo unreachable');
    expect(staleText(stale({ reason: 'poller_silent', data_age_ms: null }))).toBe(
      'Data delayed — no data yet: the poller is not reporting',
    );
    for (const reason of STALE_REASONS) expect(staleText(stale({ reason }))).toContain(`: ${STALE_REASON_TEXT[reason]}`);
  });
});
