import type { Counters, DaySummary, Summary } from '@matomo-live/protocol';
import { addDays, localDate, startOfLocalDay, type SiteTimezone } from '@matomo-live/shared';
import { COUNTERS_MINUTES, emptyDay, MAX_COUNTER_MINUTES, type TodayCounts } from './matomo-answers';

/**
 * "Today" in the snapshot. Matomo serves today's VisitsSummary from an
 * archive up to 15 minutes old; its raw logs (Live.getCounters) are always
 * current. Matomo files a visit under the day of its last action and starts a
 * new visit at the site's midnight, so the visits whose last action is at or
 * after local midnight are exactly today's visits: Live.getCounters over the
 * minutes since midnight counts them. All instants here are Matomo's clock.
 */

/** The site-local day at `matomoNow`, its midnight, and the whole minutes since (rounded up, 1…2880). */
export interface TodayWindow {
  date: string;
  /** Local midnight, ms since the epoch. */
  midnight: number;
  /**
   * lastMinutes for Live.getCounters: rounded up, so the window starts at most
   * 59 s before midnight (rounding down would miss the first minute's visits).
   */
  minutes: number;
}

export function todayWindow(matomoNow: number, zone: SiteTimezone): TodayWindow {
  const date = localDate(matomoNow, zone);
  const midnight = startOfLocalDay(date, zone);
  const minutes = Math.min(MAX_COUNTER_MINUTES, Math.max(1, Math.ceil((matomoNow - midnight) / 60_000)));
  return { date, midnight, minutes };
}

/** Live "today" numbers and the site-local day they count. */
export interface LiveToday extends TodayCounts {
  date: string;
}

/** The 30-minute counters and when Matomo computed them (its clock, ms). */
export interface TimedCounters {
  counters: Counters;
  matomoAt: number;
}

/** Today's visits, actions and unique visitors as last published, for one day: they never go down within it. */
export interface TodayFloor {
  date: string;
  visits: number;
  actions: number;
  unique_visitors: number;
}

/**
 * The kept totals moved on to the day `today` when they could not be fetched
 * since the site's midnight: yesterday becomes what was today, and a day the
 * kept totals do not cover is zeros (until the totals come back).
 */
export function summaryFor(summary: Summary, today: string): Summary {
  if (summary.today.date === today) return summary;
  const byDate = new Map([summary.day_before, summary.yesterday, summary.today].map((d) => [d.date, d]));
  const day = (date: string): DaySummary => byDate.get(date) ?? emptyDay(date);
  return { today: day(today), yesterday: day(addDays(today, -1)), day_before: day(addDays(today, -2)) };
}

export interface TodayInput {
  /** The archive's today (VisitsSummary), for the same date as `window`. */
  archive: DaySummary;
  window: TodayWindow;
  /** Live numbers; used only when they count `window.date`. */
  live: LiveToday | undefined;
  counters: TimedCounters | undefined;
  floor: TodayFloor | undefined;
}

/**
 * Today's totals as published. Visits and actions: the most complete of the
 * raw-log counts, the archive's (up to 15 minutes older, so lower in
 * practice), the 30-minute counters when their window lies inside today (in
 * the first 30 minutes after midnight it also covers yesterday's last
 * minutes, so it is no bound then), and what was published earlier the same
 * day (the minute-rounded window may count a visit of yesterday's last minute
 * on one tick and not the next). Time spent and bounces are the archive's: no
 * cheap raw-log API gives them.
 */
export function composeToday({ archive, window, live, counters, floor }: TodayInput): DaySummary {
  const current = live?.date === window.date ? live : undefined;
  const recent = counters && counters.matomoAt - COUNTERS_MINUTES * 60_000 >= window.midnight ? counters.counters : undefined;
  const earlier = floor?.date === window.date ? floor : undefined;
  return {
    ...archive,
    visits: Math.max(archive.visits, current?.visits ?? 0, recent?.visits ?? 0, earlier?.visits ?? 0),
    actions: Math.max(archive.actions, current?.actions ?? 0, recent?.actions ?? 0, earlier?.actions ?? 0),
    unique_visitors: Math.max(archive.unique_visitors, recent?.visitors ?? 0, earlier?.unique_visitors ?? 0),
  };
}
