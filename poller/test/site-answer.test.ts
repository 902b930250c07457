import { capturedLogger } from '@matomo-live/test-support/logger';
import { readPart, readSiteAnswer, type AnswerConfig, type SiteAnswer } from '../src/site-answer';
import { createSiteState } from '../src/site-state';
import { readCounters, readSiteTimezone } from '../src/matomo-answers';

const config: AnswerConfig = {
  eventsPerTick: 100,
  eventsRetentionMs: 0,
  liveLimit: 5,
  publishVisitorIp: false,
  keepVisitsWithoutLocation: true,
};
const NOW = Date.UTC(2026, 5, 10, 12, 0, 0);
const counters = [{ visits: 1, actions: 2, visitors: 1, visitsConverted: 0 }];
const day = { nb_visits: 3, nb_actions: 4, nb_uniq_visitors: 2, sum_visit_length: 60, bounce_count: 1 };
const summary = { '2026-06-08': day, '2026-06-09': day, '2026-06-10': day };

/** An answer with the given parts in this order (counters is always asked). */
function answerOf(parts: Record<string, unknown>): SiteAnswer {
  const names = Object.keys(parts);
  return {
    slots: { siteId: 1, parts: Object.fromEntries(names.map((n, i) => [n, i])) },
    answers: Object.values(parts),
    methods: names.map((n) => `Method.${n}`),
    times: { askedAt: NOW, now: NOW, matomoNow: NOW },
    askedToday: undefined,
    plan: undefined,
  };
}

describe('readPart', () => {
  it('a part not asked is undefined; a good one its value', () => {
    const answer = answerOf({ counters });
    expect(readPart(answer, 'site', readSiteTimezone)).toBeUndefined();
    expect(readPart(answer, 'counters', readCounters)).toEqual({ value: expect.objectContaining({ visits: 1 }) });
  });

  it("Matomo's error for one part is an api-error naming the method and site; a surprising shape is `shape`", () => {
    const failed = readPart(answerOf({ counters: { result: 'error', message: 'no access' } }), 'counters', readCounters);
    expect(failed).toEqual({ failure: expect.objectContaining({ kind: 'api-error', message: 'Method.counters (site 1): no access' }) });
    const odd = readPart(answerOf({ counters: 'surprise' }), 'counters', readCounters);
    expect(odd).toEqual({ failure: expect.objectContaining({ kind: 'shape' }) });
  });
});

describe('readSiteAnswer', () => {
  it('nothing without a timezone; the failure says why', () => {
    const log = capturedLogger();
    const outcome = readSiteAnswer(answerOf({ counters }), createSiteState(5, false), config, log.logger);
    expect(outcome).toEqual({ failure: expect.objectContaining({ message: expect.stringContaining('site 1: timezone unknown') }) });
  });

  it('composes the content from the parts, and keeps the last good value of a part that fails', () => {
    const log = capturedLogger();
    const state = createSiteState(5, false);
    const first = readSiteAnswer(
      answerOf({ visits: [], counters, site: { idsite: '1', timezone: 'UTC' }, summary }),
      state,
      config,
      log.logger,
    );
    expect(first).toMatchObject({ content: { site: 1, timezone: 'UTC', visits_live: [], counters: { visits: 1 } }, step: undefined });
    const second = readSiteAnswer(answerOf({ visits: [], counters: { result: 'error', message: 'down' } }), state, config, log.logger);
    expect(second).toMatchObject({ content: { counters: { visits: 1 } } });
    expect(state.counters.failures).toBe(1);
    expect(log.lines().filter((l) => String(l.msg).startsWith('part of the Matomo answer failed'))).toEqual([
      expect.objectContaining({ level: 40, part: 'counters', keptFrom: new Date(NOW).toISOString() }),
    ]);
  });

  it('without fresh latest visits (not asked, no cursor): no publish', () => {
    const state = createSiteState(5, false);
    const outcome = readSiteAnswer(
      answerOf({ counters, site: { idsite: '1', timezone: 'UTC' }, summary }),
      state,
      config,
      capturedLogger().logger,
    );
    expect(outcome).toEqual({ failure: expect.objectContaining({ message: 'site 1: latest visits: not fetched yet' }) });
  });
});
