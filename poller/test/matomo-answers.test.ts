import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeSnapshot, parseSiteTimezone } from '@matomo-live/shared';
import {
  AnswerShapeError,
  hhmmss,
  MAX_TEXT_LENGTH,
  readCounters,
  readSiteTimezone,
  readSummary,
  readTodayCounters,
  readVisits,
} from '../src/matomo-answers';

const fixture = (name: string): unknown => JSON.parse(readFileSync(join(__dirname, 'fixtures', name), 'utf8'));
const realVisit = fixture('live-visit-real-2024.json') as Record<string, unknown>;
const paris = parseSiteTimezone('Europe/Paris');
const defaults = { publishVisitorIp: false, keepVisitsWithoutLocation: false };

describe('readVisits', () => {
  it('turns the real Matomo 5 visit into the reference shape, local time in the site timezone', () => {
    expect(readVisits([realVisit], paris, defaults)).toEqual([
      {
        latitude: 48.924,
        longitude: 2.213,
        city: 'Bezons',
        countryCode: 'fr',
        country: 'France',
        actions: 3,
        visitIp: '',
        operatingSystem: 'Mac 10.15',
        browserName: 'Chrome',
        source: 'Google',
        // lastActionTimestamp 1720111417 = 2024-07-04 16:43:37 UTC = 18:43:37 in Paris (the fixture's serverTimePretty).
        lastActionDateTime: '2024-07-04 18:43:37',
        lastActionUtc: '2024-07-04T16:43:37Z',
      },
    ]);
  });

  it('renders UTC+3 and UTC-4.5 sites in their offsets', () => {
    expect(readVisits([realVisit], parseSiteTimezone('UTC+3'), defaults)[0]!.lastActionDateTime).toBe('2024-07-04 19:43:37');
    expect(readVisits([realVisit], parseSiteTimezone('UTC-4.5'), defaults)[0]!.lastActionDateTime).toBe('2024-07-04 12:13:37');
  });

  it('publishes the visitor IP only when asked to', () => {
    expect(readVisits([realVisit], paris, { ...defaults, publishVisitorIp: true })[0]!.visitIp).toBe('12.123.0.0');
  });

  it('drops visits without numeric coordinates unless told to keep them', () => {
    const unknown = { ...realVisit, latitude: null, longitude: null };
    expect(readVisits([unknown, realVisit], paris, defaults)).toHaveLength(1);
    const kept = readVisits([unknown], paris, { ...defaults, keepVisitsWithoutLocation: true });
    expect(kept).toEqual([expect.objectContaining({ latitude: null, longitude: null, city: 'Bezons' })]);
  });

  it('reads null text fields as ""', () => {
    expect(readVisits([{ ...realVisit, referrerName: null }], paris, defaults)[0]!.source).toBe('');
  });

  it('cuts every text field to MAX_TEXT_LENGTH, so a 1 MiB city leaves a snapshot of a few KiB', () => {
    const huge = 'é'.repeat(1 << 20);
    const hostile = { ...realVisit, city: huge, country: huge, countryCode: huge, operatingSystem: huge, browserName: huge };
    const [visit] = readVisits([{ ...hostile, referrerName: huge, visitIp: huge }], paris, { ...defaults, publishVisitorIp: true });
    for (const field of ['city', 'country', 'countryCode', 'operatingSystem', 'browserName', 'source', 'visitIp'] as const) {
      expect(visit![field]).toBe('é'.repeat(MAX_TEXT_LENGTH));
    }
    const summary = {
      today: { visits: 0, time_spent: '00:00:00' },
      yesterday: { visits: 0, time_spent: '00:00:00' },
      day_before: { visits: 0, time_spent: '00:00:00' },
    };
    const content = { visits_live: [visit!], summary, counters: null, site: 1, timezone: 'Europe/Paris' };
    expect(encodeSnapshot(content as never, 1, new Date(0)).length).toBeLessThan(4096);
  });

  it('never cuts a surrogate pair in half', () => {
    const city = `${'a'.repeat(MAX_TEXT_LENGTH - 1)}😀😀`;
    expect(readVisits([{ ...realVisit, city }], paris, defaults)[0]!.city).toBe('a'.repeat(MAX_TEXT_LENGTH - 1));
  });

  it.each([
    ['a non-array', { 0: realVisit }],
    ['a visit that is not an object', ['x']],
    ['actions that are not a number', [{ ...realVisit, actions: 'three' }]],
    ['a latitude out of range', [{ ...realVisit, latitude: '123.0' }]],
    ['a missing city', [{ ...realVisit, city: undefined }]],
    ['a missing lastActionTimestamp', [{ ...realVisit, lastActionTimestamp: undefined }]],
    ['a numeric city', [{ ...realVisit, city: 7 }]],
  ])('rejects %s', (_what, answer) => {
    expect(() => readVisits(JSON.parse(JSON.stringify(answer)), paris, defaults)).toThrow(AnswerShapeError);
  });
});

describe('readSummary', () => {
  const bulk = fixture('bulk-visitssummary-multiday.json') as unknown[];

  it('reads the real keyed-by-date answer, [] being a day without visits', () => {
    // The fixture holds 2010-03-06 and 2010-03-07; last3 ending 2010-03-07 also asks 2010-03-05.
    const answer = { '2010-03-05': [], ...(bulk[0] as object) };
    expect(readSummary(answer, '2010-03-07')).toEqual({
      day_before: {
        visits: 0,
        time_spent: '00:00:00',
        date: '2010-03-05',
        time_spent_seconds: 0,
        actions: 0,
        unique_visitors: 0,
        bounce_count: 0,
      },
      yesterday: {
        visits: 2,
        time_spent: '00:27:01',
        date: '2010-03-06',
        time_spent_seconds: 1621,
        actions: 8,
        unique_visitors: 1,
        bounce_count: 1,
      },
      today: {
        visits: 0,
        time_spent: '00:00:00',
        date: '2010-03-07',
        time_spent_seconds: 0,
        actions: 0,
        unique_visitors: 0,
        bounce_count: 0,
      },
    });
  });

  it('accepts numbers as strings', () => {
    const day = { nb_visits: '5', sum_visit_length: '90061', nb_actions: '9', nb_uniq_visitors: '4', bounce_count: '1' };
    expect(readSummary({ '2024-07-02': [], '2024-07-03': [], '2024-07-04': day }, '2024-07-04').today).toMatchObject({
      visits: 5,
      time_spent: '25:01:01',
    });
  });

  it.each([
    ['dates that do not end today', { '2024-07-01': [], '2024-07-02': [], '2024-07-03': [] }],
    ['dates out of order', { '2024-07-03': [], '2024-07-02': [], '2024-07-04': [] }],
    ['an array', []],
    ['a day that is a string', { '2024-07-02': [], '2024-07-03': [], '2024-07-04': 'x' }],
    ['a day without nb_visits', { '2024-07-02': [], '2024-07-03': [], '2024-07-04': { sum_visit_length: 1 } }],
    ['a negative count', { '2024-07-02': [], '2024-07-03': [], '2024-07-04': { nb_visits: -1, sum_visit_length: 1 } }],
  ])('rejects %s', (_what, answer) => {
    expect(() => readSummary(answer, '2024-07-04')).toThrow(AnswerShapeError);
  });
});

describe('readCounters', () => {
  it("reads integers or strings (the XML fixture's values)", () => {
    expect(readCounters([{ visits: '3', actions: '5', visitors: '2', visitsConverted: '3' }])).toEqual({
      minutes: 30,
      visits: 3,
      actions: 5,
      visitors: 2,
      visits_converted: 3,
    });
    expect(readCounters([{ visits: 3, actions: 5, visitors: 2, visitsConverted: 0 }]).visits).toBe(3);
  });

  it.each([[[]], [{}], [[{ visits: 'x', actions: 1, visitors: 1 }]]])('rejects %j', (answer) => {
    expect(() => readCounters(answer)).toThrow(AnswerShapeError);
  });
});

describe('readTodayCounters', () => {
  it('reads the two columns asked (Matomo answers only those keys)', () => {
    expect(readTodayCounters([{ visits: 7, actions: 13 }])).toEqual({ visits: 7, actions: 13 });
    expect(readTodayCounters([{ visits: 0, actions: 0 }])).toEqual({ visits: 0, actions: 0 });
  });

  // [[]] is what Matomo answers to showColumns naming no existing column.
  it.each([[[[]]], [[{ visits: 7 }]], [[{ visits: -1, actions: 0 }]], [{ visits: 7, actions: 13 }]])('rejects %j', (answer) => {
    expect(() => readTodayCounters(answer)).toThrow(AnswerShapeError);
  });
});

describe('readSiteTimezone', () => {
  it('reads IANA and UTC offset forms', () => {
    expect(readSiteTimezone({ idsite: '1', timezone: 'Europe/Paris' }).name).toBe('Europe/Paris');
    expect(readSiteTimezone({ idsite: '1', timezone: 'UTC-4.5' }).offsetMinutes(0)).toBe(-270);
  });

  it.each([[{}], [{ timezone: 'Nowhere/Land' }], [[]]])('rejects %j', (answer) => {
    expect(() => readSiteTimezone(answer)).toThrow(AnswerShapeError);
  });
});

it('hhmmss lets hours pass 24', () => {
  expect(hhmmss(0)).toBe('00:00:00');
  expect(hhmmss(3661)).toBe('01:01:01');
  expect(hhmmss(100 * 3600)).toBe('100:00:00');
});
