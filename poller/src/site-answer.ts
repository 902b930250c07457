import type { SnapshotContent } from '@matomo-live/protocol';
import { addDays, startOfLocalDay, type Logger, type PollerConfig } from '@matomo-live/shared';
import type { SitePart, SiteSlots } from './bulk-request';
import { composeToday, summaryFor, todayWindow, type LiveToday, type TimedCounters, type TodayWindow } from './live-today';
import { readCounters, readSiteTimezone, readSummary, readTodayCounters, readVisitRows } from './matomo-answers';
import { errorMessage, MatomoRequestError } from './matomo-client';
import type { PartState } from './part-state';
import type { SiteState } from './site-state';
import type { CursorPlan } from './tick-plan';
import { TickFailure } from './tick-failure';
import { advanceCursor, type CursorStep } from './visit-cursor';

/** When a tick happened, on our clock and (estimated) on Matomo's. */
export interface TickTimes {
  /** When the request was sent: what the parts' intervals count from, so a 10 s part is asked every 10th 1 s tick. */
  askedAt: number;
  /** When the answer came. */
  now: number;
  matomoNow: number;
}

/** One site's share of the bulk answer, and what was asked. */
export interface SiteAnswer {
  slots: SiteSlots;
  answers: unknown[];
  methods: string[];
  times: TickTimes;
  /** The "today" window asked for, when the `today` part was. */
  askedToday: TodayWindow | undefined;
  plan: CursorPlan | undefined;
}

/** What a site publishes this tick: the snapshot's content and the cursor's step (with its events). */
export interface SiteOutcome {
  content: SnapshotContent;
  step: CursorStep | undefined;
}

type PartResult<T> = { value: T } | { failure: TickFailure } | undefined;

export type AnswerConfig = Pick<PollerConfig, 'eventsPerTick' | 'eventsRetentionMs' | 'liveLimit'> & Parameters<typeof readVisitRows>[2];

/**
 * Reads one site's answer, each part on its own (a part that fails keeps its
 * last good value), and composes the snapshot's content; a failure when the
 * site cannot be published (its visits failed, or it has no timezone or
 * daily totals yet).
 */
export function readSiteAnswer(
  answer: SiteAnswer,
  state: SiteState,
  config: AnswerConfig,
  log: Logger,
): SiteOutcome | { failure: TickFailure } {
  const { slots, times, askedToday, plan } = answer;
  const { siteId } = slots;
  const read = <T>(part: SitePart, reader: (raw: unknown) => T): PartResult<T> => readPart(answer, part, reader);
  const keep = <T>(part: SitePart, partState: PartState<T>, result: PartResult<T>) =>
    keepPart(log, siteId, part, partState, result, times.askedAt);
  /** A part whose value is kept elsewhere: only its success or failure is recorded. */
  const seen = <T>(result: PartResult<T>): PartResult<true> => result && ('value' in result ? { value: true } : result);

  const site = read('site', readSiteTimezone);
  if (site && 'value' in site && state.site.value?.name !== site.value.name) {
    log.info({ siteId, timezone: site.value.name }, 'site timezone');
  }
  keep('site', state.site, site);
  const zone = state.site.value;
  if (!zone) {
    return { failure: TickFailure.missing(state.site, `site ${siteId}: timezone unknown (SitesManager.getSiteFromId), nothing published`) };
  }
  const visitRows = read('visits', (raw) => readVisitRows(raw, zone, config));
  keep('visits', state.visits, seen(visitRows));
  if (visitRows && 'value' in visitRows) state.latest.seed(visitRows.value);
  const cursorRows = read('cursor', (raw) => readVisitRows(raw, zone, config));
  keep('cursor', state.cursor, seen(cursorRows));
  let step: CursorStep | undefined;
  if (plan && cursorRows && 'value' in cursorRows) {
    step = advanceCursor(plan.state, cursorRows.value, config.eventsPerTick, plan.jumped, config.eventsRetentionMs > 0);
    state.latest.merge(step.rows);
  }
  keep(
    'counters',
    state.counters,
    read('counters', (raw): TimedCounters => ({ counters: readCounters(raw), matomoAt: times.matomoNow })),
  );
  keep('today', state.today, askedToday && read('today', (raw): LiveToday => ({ ...readTodayCounters(raw), date: askedToday.date })));
  const window = todayWindow(times.matomoNow, zone);
  keep(
    'summary',
    state.summary,
    read('summary', (raw) => readSummary(raw, window.date)),
  );
  // Matomo's window of date=today (the full read's): from the site's midnight of the day before today in UTC.
  state.latest.dropBefore(startOfLocalDay(addDays(new Date(times.matomoNow).toISOString().slice(0, 10), -1), zone) / 1000);
  // The latest visits must be current: read in full this tick, or kept current by the cursor over an earlier full read.
  const fresh = (visitRows !== undefined && 'value' in visitRows) || (step !== undefined && state.latest.seeded);
  if (!fresh) {
    const failure =
      (visitRows && 'failure' in visitRows ? visitRows.failure : undefined) ??
      (cursorRows && 'failure' in cursorRows ? cursorRows.failure : undefined) ??
      TickFailure.missing(state.visits, `site ${siteId}: latest visits`);
    return { failure };
  }
  if (!state.summary.value) {
    return { failure: TickFailure.missing(state.summary, `site ${siteId}: no daily totals yet (VisitsSummary.get), nothing published`) };
  }
  const days = summaryFor(state.summary.value, window.date);
  const todays = composeToday({
    archive: days.today,
    window,
    live: state.today.value,
    counters: state.counters.value,
    floor: state.todayFloor,
  });
  state.todayFloor = { date: window.date, visits: todays.visits, actions: todays.actions, unique_visitors: todays.unique_visitors };
  const content: SnapshotContent = {
    visits_live: state.latest.visits(),
    summary: { ...days, today: todays },
    counters: state.counters.value?.counters ?? null,
    site: siteId,
    timezone: zone.name,
  };
  return { content, step };
}

/** One part of a site's answer through `reader`: its value, its failure (a Matomo error or a surprising shape), or undefined when not asked. */
export function readPart<T>(
  answer: Pick<SiteAnswer, 'slots' | 'answers' | 'methods'>,
  part: SitePart,
  reader: (raw: unknown) => T,
): PartResult<T> {
  const { slots, answers, methods } = answer;
  const index = slots.parts[part];
  if (index === undefined) return undefined;
  try {
    const error = errorMessage(answers[index]);
    if (error !== undefined) throw new MatomoRequestError('api-error', `${methods[index]} (site ${slots.siteId}): ${error}`);
    return { value: reader(answers[index]) };
  } catch (error) {
    return { failure: TickFailure.reading(error) };
  }
}

/**
 * Stores a part's good value, or records its failure and keeps the last good
 * one. Logs once per failure streak (warn) and once when it ends (info).
 */
function keepPart<T>(log: Logger, siteId: number, part: SitePart, state: PartState<T>, result: PartResult<T>, now: number): void {
  if (!result) return;
  if ('value' in result) {
    const ended = state.succeed(result.value, now);
    if (ended > 0) log.info({ siteId, part, failures: ended }, 'part of the Matomo answer works again');
    return;
  }
  const { failure } = result;
  if (state.fail(failure.message, failure.kind, now)) {
    const keptFrom = state.fetchedAt === undefined ? null : new Date(state.fetchedAt).toISOString();
    log.warn(
      { siteId, part, kind: failure.kind, err: failure, keptFrom },
      keptFrom
        ? 'part of the Matomo answer failed; publishing its last good value (stale, see /healthz) until it works again'
        : 'part of the Matomo answer failed and has no earlier value; retrying',
    );
  } else {
    log.debug({ siteId, part, kind: failure.kind, failures: state.failures }, 'part of the Matomo answer still failing');
  }
}
