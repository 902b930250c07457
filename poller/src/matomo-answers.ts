import type { Counters, DaySummary, LiveVisit, Summary } from '@matomo-live/protocol';
import { addDays, formatLocalDateTime, parseSiteTimezone, utcIsoSeconds, type SiteTimezone } from '@matomo-live/shared';

/**
 * Strict readers of Matomo's sub-answers. Matomo 5 sends counts as ints
 * (older versions and some plugins as strings: both are read), coordinates as
 * strings or `null`, `[]` for empty days; anything else that surprises us
 * throws AnswerShapeError, so a bad answer is never published.
 */
export class AnswerShapeError extends Error {
  constructor(what: string, detail: string) {
    super(`${what}: ${detail}`);
    this.name = 'AnswerShapeError';
  }
}

/** The visit columns requested with showColumns: exactly what normalization reads. */
export const VISIT_COLUMNS = [
  'idVisit',
  'latitude',
  'longitude',
  'city',
  'countryCode',
  'country',
  'actions',
  'visitIp',
  'operatingSystem',
  'browserName',
  'referrerName',
  'lastActionTimestamp',
] as const;

/** Live.getCounters' window, minutes. */
export const COUNTERS_MINUTES = 30;

/** The columns asked of Live.getCounters since midnight (today's live numbers). */
export const TODAY_COLUMNS = ['visits', 'actions'] as const;

/** Matomo's bounds of Live.getCounters' lastMinutes. */
export const MAX_COUNTER_MINUTES = 2880;

/** Today's live numbers from raw logs: visits whose last action is in the window, action rows in the window. */
export interface TodayCounts {
  visits: number;
  actions: number;
}

export interface VisitOptions {
  /** Keep real IPs; otherwise visitIp is "". */
  publishVisitorIp: boolean;
  /** Keep visits without numeric coordinates (latitude/longitude null then). */
  keepVisitsWithoutLocation: boolean;
}

/** SitesManager.getSiteFromId → the site's timezone. */
export function readSiteTimezone(answer: unknown): SiteTimezone {
  const site = record(answer, 'SitesManager.getSiteFromId');
  if (typeof site.timezone !== 'string' || site.timezone === '') throw new AnswerShapeError('SitesManager.getSiteFromId', 'no timezone');
  try {
    return parseSiteTimezone(site.timezone);
  } catch (error) {
    throw new AnswerShapeError('SitesManager.getSiteFromId', (error as Error).message);
  }
}

/**
 * One row of Live.getLastVisitsDetails: Matomo's visit id, action count and
 * last action time (what the incremental fetch orders and de-duplicates by),
 * and the visit as published, or null when the options drop it (no location).
 */
export interface VisitRow {
  idVisit: number;
  actions: number;
  /** Unix seconds. */
  lastActionTimestamp: number;
  visit: LiveVisit | null;
}

/** Live.getLastVisitsDetails → its rows, in Matomo's order, each read strictly. */
export function readVisitRows(answer: unknown, zone: SiteTimezone, options: VisitOptions): VisitRow[] {
  if (!Array.isArray(answer)) throw new AnswerShapeError('Live.getLastVisitsDetails', `expected an array, got ${kind(answer)}`);
  return answer.map((item, i): VisitRow => {
    const what = `Live.getLastVisitsDetails[${i}]`;
    const v = record(item, what);
    const idVisit = wholeNumber(v.idVisit, `${what}.idVisit`);
    const actions = wholeNumber(v.actions, `${what}.actions`);
    const lastActionTimestamp = wholeNumber(v.lastActionTimestamp, `${what}.lastActionTimestamp`);
    const latitude = coordinate(v.latitude, -90, 90, `${what}.latitude`);
    const longitude = coordinate(v.longitude, -180, 180, `${what}.longitude`);
    const visitIp = text(v.visitIp, `${what}.visitIp`);
    const located = latitude !== null && longitude !== null;
    const fields = {
      city: text(v.city, `${what}.city`),
      countryCode: text(v.countryCode, `${what}.countryCode`),
      country: text(v.country, `${what}.country`),
      operatingSystem: text(v.operatingSystem, `${what}.operatingSystem`),
      browserName: text(v.browserName, `${what}.browserName`),
      source: text(v.referrerName, `${what}.referrerName`),
    };
    if (!located && !options.keepVisitsWithoutLocation) return { idVisit, actions, lastActionTimestamp, visit: null };
    const lastAction = lastActionTimestamp * 1000;
    return {
      idVisit,
      actions,
      lastActionTimestamp,
      visit: {
        latitude: located ? latitude : null,
        longitude: located ? longitude : null,
        city: fields.city,
        countryCode: fields.countryCode,
        country: fields.country,
        actions,
        visitIp: options.publishVisitorIp ? visitIp : '',
        operatingSystem: fields.operatingSystem,
        browserName: fields.browserName,
        source: fields.source,
        lastActionDateTime: formatLocalDateTime(lastAction, zone),
        lastActionUtc: utcIsoSeconds(lastAction),
      },
    };
  });
}

/** Live.getLastVisitsDetails → the reference's visits_live items (plus lastActionUtc). */
export function readVisits(answer: unknown, zone: SiteTimezone, options: VisitOptions): LiveVisit[] {
  return readVisitRows(answer, zone, options).flatMap((row) => (row.visit ? [row.visit] : []));
}

/** Live.getCounters → counters over COUNTERS_MINUTES. */
export function readCounters(answer: unknown): Counters {
  if (!Array.isArray(answer) || answer.length !== 1)
    throw new AnswerShapeError('Live.getCounters', `expected an array of one row, got ${kind(answer)}`);
  const row = record(answer[0], 'Live.getCounters[0]');
  return {
    minutes: COUNTERS_MINUTES,
    visits: wholeNumber(row.visits, 'Live.getCounters.visits'),
    actions: wholeNumber(row.actions, 'Live.getCounters.actions'),
    visitors: wholeNumber(row.visitors, 'Live.getCounters.visitors'),
    visits_converted: wholeNumber(row.visitsConverted ?? 0, 'Live.getCounters.visitsConverted'),
  };
}

/** Live.getCounters&showColumns=visits,actions → today's live visits and actions (Matomo answers only those keys). */
export function readTodayCounters(answer: unknown): TodayCounts {
  if (!Array.isArray(answer) || answer.length !== 1)
    throw new AnswerShapeError('Live.getCounters (today)', `expected an array of one row, got ${kind(answer)}`);
  const row = record(answer[0], 'Live.getCounters (today)[0]');
  return {
    visits: wholeNumber(row.visits, 'Live.getCounters (today).visits'),
    actions: wholeNumber(row.actions, 'Live.getCounters (today).actions'),
  };
}

/**
 * VisitsSummary.get&period=day&date=last3 → {today, yesterday, day_before}.
 * The answer is keyed by date, oldest first, and must end on `today` (the
 * site-local date the poller expects), so a summary is never shifted by a day.
 */
export function readSummary(answer: unknown, today: string): Summary {
  const byDate = record(answer, 'VisitsSummary.get');
  const expected = [addDays(today, -2), addDays(today, -1), today];
  const dates = Object.keys(byDate);
  if (dates.join() !== expected.join()) {
    throw new AnswerShapeError('VisitsSummary.get', `expected dates ${expected.join(', ')}, got ${dates.join(', ') || 'none'}`);
  }
  const [dayBefore, yesterday, todays] = expected.map((date) => readDay(byDate[date], date)) as [DaySummary, DaySummary, DaySummary];
  return { today: todays, yesterday, day_before: dayBefore };
}

function readDay(value: unknown, date: string): DaySummary {
  const what = `VisitsSummary.get[${date}]`;
  // Matomo answers [] for a day without data.
  if (Array.isArray(value) && value.length === 0) return emptyDay(date);
  const day = record(value, what);
  return daySummary(
    date,
    wholeNumber(day.nb_visits, `${what}.nb_visits`),
    wholeNumber(day.sum_visit_length, `${what}.sum_visit_length`),
    wholeNumber(day.nb_actions ?? 0, `${what}.nb_actions`),
    wholeNumber(day.nb_uniq_visitors ?? 0, `${what}.nb_uniq_visitors`),
    wholeNumber(day.bounce_count ?? 0, `${what}.bounce_count`),
  );
}

/** A day without data: all zeros (what Matomo's `[]` means). */
export function emptyDay(date: string): DaySummary {
  return daySummary(date, 0, 0, 0, 0, 0);
}

function daySummary(date: string, visits: number, seconds: number, actions: number, uniqueVisitors: number, bounces: number): DaySummary {
  return {
    visits,
    time_spent: hhmmss(seconds),
    date,
    time_spent_seconds: seconds,
    actions,
    unique_visitors: uniqueVisitors,
    bounce_count: bounces,
  };
}

/** Seconds as "HH:MM:SS"; hours grow past 24 (a day's summed visit length often does). */
export function hhmmss(seconds: number): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(Math.floor(seconds / 3600))}:${pad(Math.floor((seconds % 3600) / 60))}:${pad(seconds % 60)}`;
}

function record(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new AnswerShapeError(what, `expected an object, got ${kind(value)}`);
  return value as Record<string, unknown>;
}

/** A whole number ≥ 0, as a number or a numeric string ("3"). */
function wholeNumber(value: unknown, what: string): number {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0)
    throw new AnswerShapeError(what, `expected a whole number, got ${kind(value)}`);
  return n;
}

/** A coordinate as number or string ("48.924000"); null/"" when the location is unknown. */
function coordinate(value: unknown, min: number, max: number, what: string): number | null {
  if (value === null || value === '') return null;
  const n = typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < min || n > max)
    throw new AnswerShapeError(what, `expected a coordinate, got ${kind(value)}`);
  return n;
}

/**
 * Longest text field published, in UTF-16 units. Every text field (city, country, OS, browser, source…) is read
 * here: a tracker can set a 1 MiB "city" or referrer, which would otherwise reach every snapshot, event and
 * client (and close slow ones at the send-buffer limit).
 */
export const MAX_TEXT_LENGTH = 200;

/** A text field, cut to MAX_TEXT_LENGTH; Matomo sends null for some empty ones (e.g. referrerName of a direct entry). */
function text(value: unknown, what: string): string {
  if (value === null) return '';
  if (typeof value !== 'string') throw new AnswerShapeError(what, `expected a string, got ${kind(value)}`);
  if (value.length <= MAX_TEXT_LENGTH) return value;
  // Never leave half a surrogate pair at the end (invalid UTF-16, replaced by U+FFFD on the wire).
  const cut = value.slice(0, MAX_TEXT_LENGTH);
  return /[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut;
}

function kind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}
