import { addDays, formatLocalDateTime, localDate, parseSiteTimezone, startOfLocalDay, utcIsoSeconds } from '@matomo-live/shared';

const FIXTURE_INSTANT = Date.parse('2024-07-04T16:43:37Z');

describe('site timezones', () => {
  it.each([
    ['Europe/Paris', '2024-07-04 18:43:37'],
    ['UTC', '2024-07-04 16:43:37'],
    ['UTC+3', '2024-07-04 19:43:37'],
    ['UTC-4.5', '2024-07-04 12:13:37'],
    ['UTC+5:30', '2024-07-04 22:13:37'],
    ['America/New_York', '2024-07-04 12:43:37'],
  ])('renders local time in %s', (zone, expected) => {
    expect(formatLocalDateTime(FIXTURE_INSTANT, parseSiteTimezone(zone))).toBe(expected);
  });

  it('follows daylight saving time for IANA zones', () => {
    const paris = parseSiteTimezone('Europe/Paris');
    expect(formatLocalDateTime(Date.parse('2024-01-15T12:00:00Z'), paris)).toBe('2024-01-15 13:00:00');
  });

  it('finds the local date and the start of a local day', () => {
    const paris = parseSiteTimezone('Europe/Paris');
    expect(localDate(Date.parse('2024-07-04T22:30:00Z'), paris)).toBe('2024-07-05');
    expect(new Date(startOfLocalDay('2024-07-05', paris)).toISOString()).toBe('2024-07-04T22:00:00.000Z');
    expect(new Date(startOfLocalDay('2024-03-31', paris)).toISOString()).toBe('2024-03-30T23:00:00.000Z');
    expect(new Date(startOfLocalDay('2024-07-05', parseSiteTimezone('UTC-4.5'))).toISOString()).toBe('2024-07-05T04:30:00.000Z');
  });

  it('moves dates across month ends and prints UTC with seconds', () => {
    expect(addDays('2024-03-01', -1)).toBe('2024-02-29');
    expect(utcIsoSeconds(FIXTURE_INSTANT + 999)).toBe('2024-07-04T16:43:37Z');
  });

  it.each(['Mars/Olympus', 'UTC+15', 'GMT+x'])('rejects %s', (zone) => {
    expect(() => parseSiteTimezone(zone)).toThrow(/timezone/);
  });
});
