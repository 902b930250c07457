import type { DaySummary, Summary } from '@matomo-live/protocol';
import { parseSiteTimezone } from '@matomo-live/shared';
import { composeToday, summaryFor, todayWindow, type TodayWindow } from '../src/live-today';
import { emptyDay } from '../src/matomo-answers';

const TOKYO = parseSiteTimezone('Asia/Tokyo');
const KIRITIMATI = parseSiteTimezone('Pacific/Kiritimati');

describe('todayWindow', () => {
  it('counts whole minutes since local midnight, rounded up, at least 1', () => {
    // 2026-11-29 11:00:30 UTC = 20:00:30 in Tokyo: 1200.5 minutes since 15:00 UTC the day before.
    expect(todayWindow(Date.parse('2026-11-29T11:00:30Z'), TOKYO)).toEqual({
      date: '2026-11-29',
      midnight: Date.parse('2026-11-28T15:00:00Z'),
      minutes: 1201,
    });
    expect(todayWindow(Date.parse('2026-11-28T15:00:00Z'), TOKYO).minutes).toBe(1);
    // UTC+14: 11:01:56 UTC is 01:01:56 on the next day.
    expect(todayWindow(Date.parse('2026-11-29T11:01:56Z'), KIRITIMATI)).toMatchObject({ date: '2026-11-30', minutes: 62 });
  });

  it("covers a 25-hour day (the end of daylight saving) within Matomo's 2880-minute cap", () => {
    const paris = parseSiteTimezone('Europe/Paris');
    // 23:59 CET on the day clocks go back: 24 h 59 min after midnight (CEST).
    expect(todayWindow(Date.parse('2024-10-27T22:59:00Z'), paris).minutes).toBe(1499);
  });
});

const day = (date: string, visits: number, over: Partial<DaySummary> = {}): DaySummary => ({
  ...emptyDay(date),
  visits,
  actions: visits * 2,
  unique_visitors: visits,
  time_spent: '00:01:40',
  time_spent_seconds: 100,
  bounce_count: 1,
  ...over,
});
const WINDOW: TodayWindow = { date: '2026-11-29', midnight: Date.parse('2026-11-28T15:00:00Z'), minutes: 1201 };
const AT_20H = Date.parse('2026-11-29T11:00:00Z');
const counters = (visits: number, actions: number, visitors = visits) => ({ minutes: 30, visits, actions, visitors, visits_converted: 0 });

describe('composeToday', () => {
  it('takes visits and actions from raw logs, the rest from the archive', () => {
    const today = composeToday({
      archive: day('2026-11-29', 4),
      window: WINDOW,
      live: { date: '2026-11-29', visits: 7, actions: 13 },
      counters: { counters: counters(3, 6), matomoAt: AT_20H },
      floor: undefined,
    });
    expect(today).toEqual({ ...day('2026-11-29', 4), visits: 7, actions: 13 });
  });

  it('is never below the 30-minute counters when their window lies inside today', () => {
    const today = composeToday({
      archive: day('2026-11-29', 4),
      window: WINDOW,
      live: { date: '2026-11-29', visits: 5, actions: 9 },
      counters: { counters: counters(6, 12, 6), matomoAt: AT_20H },
      floor: undefined,
    });
    expect(today).toMatchObject({ visits: 6, actions: 12, unique_visitors: 6 });
  });

  it('ignores the counters in the first 30 minutes after midnight (they also cover yesterday) and live numbers of another day', () => {
    const today = composeToday({
      archive: emptyDay('2026-11-29'),
      window: WINDOW,
      live: { date: '2026-11-28', visits: 50, actions: 90 },
      counters: { counters: counters(6, 12), matomoAt: WINDOW.midnight + 29 * 60_000 },
      floor: undefined,
    });
    expect(today).toMatchObject({ visits: 0, actions: 0 });
  });

  it('never goes below what was published earlier the same day, and forgets that the next day', () => {
    const input = {
      archive: day('2026-11-29', 4),
      window: WINDOW,
      live: { date: '2026-11-29', visits: 7, actions: 13 },
      counters: undefined,
    };
    expect(composeToday({ ...input, floor: { date: '2026-11-29', visits: 8, actions: 14, unique_visitors: 5 } })).toMatchObject({
      visits: 8,
      actions: 14,
      unique_visitors: 5,
    });
    expect(composeToday({ ...input, floor: { date: '2026-11-28', visits: 80, actions: 140, unique_visitors: 50 } })).toMatchObject({
      visits: 7,
      actions: 13,
      unique_visitors: 4,
    });
  });
});

describe('summaryFor', () => {
  const summary: Summary = { today: day('2026-11-29', 9), yesterday: day('2026-11-28', 8), day_before: day('2026-11-27', 7) };

  it('keeps a summary of the same day', () => {
    expect(summaryFor(summary, '2026-11-29')).toBe(summary);
  });

  it('moves kept totals on to a new day: yesterday is what was today, unknown days are zeros', () => {
    expect(summaryFor(summary, '2026-11-30')).toEqual({
      today: emptyDay('2026-11-30'),
      yesterday: summary.today,
      day_before: summary.yesterday,
    });
    expect(summaryFor(summary, '2026-12-02')).toEqual({
      today: emptyDay('2026-12-02'),
      yesterday: emptyDay('2026-12-01'),
      day_before: emptyDay('2026-11-30'),
    });
  });
});
