/**
 * Every answer a real Matomo 5.2 gave (fixtures/real-matomo/, with INDEX.tsv
 * saying each one's status, content type and request) through the parts of
 * the poller that would meet it: the HTTP client (replayed over a real socket
 * with its real status and content type) and the answer readers. Each file
 * must have an expectation below, so a new real answer cannot go unchecked.
 */
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Agent } from 'undici';
import { parseSiteTimezone } from '@matomo-live/shared';
import { readTrackingAnswer } from '@matomo-live/test-support/real-matomo';
import { BULK_QUERY, type BulkRequest } from '../src/bulk-request';
import { AnswerShapeError, readCounters, readSiteTimezone, readSummary, readTodayCounters, readVisits } from '../src/matomo-answers';
import {
  errorMessage,
  isAuthRefusal,
  isIpBlocked,
  MatomoRequestError,
  postBulkRequest,
  type MatomoFailureKind,
} from '../src/matomo-client';

const DIR = join(__dirname, 'fixtures', 'real-matomo');
const TOKYO = parseSiteTimezone('Asia/Tokyo');
const NEW_YORK = parseSiteTimezone('America/New_York');
const VISIT_OPTIONS = { publishVisitorIp: false, keepVisitsWithoutLocation: false };

interface Indexed {
  status: number;
  contentType: string;
  args: string;
}

const index = new Map<string, Indexed>(
  readFileSync(join(DIR, 'INDEX.tsv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => {
      const [file, status, contentType, args] = line.split('\t');
      return [file!, { status: Number(status), contentType: contentType!, args: args ?? '' }];
    }),
);
const body = (file: string) => readFileSync(join(DIR, file), 'utf8');
const json = (file: string): unknown => JSON.parse(body(file));

/** What the poller must make of a file. */
type Expectation =
  /** The whole answer, replayed over HTTP, makes the client fail with this kind (nothing is read further). */
  | { client: MatomoFailureKind }
  /** Replayed over HTTP, the client returns the array; then each element is checked. */
  | { bulk: Array<(answer: unknown) => void> }
  /** A sub-answer the poller reads; the check gets the parsed JSON. */
  | { read: (answer: unknown) => void }
  /** Matomo's error object (HTTP 200 inside a bulk answer): its message, classified. */
  | { error: 'token-refused' | 'ip-blocked' | 'other' };

const visits = (zone: typeof TOKYO, count: number) => (answer: unknown) => {
  const read = readVisits(answer, zone, VISIT_OPTIONS);
  expect(read).toHaveLength(count);
  for (const v of read) {
    expect(typeof v.latitude).toBe('number');
    expect(typeof v.actions).toBe('number');
    expect(v.lastActionDateTime).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(v.visitIp).toBe('');
  }
};
const counters = (visitsCount: number) => (answer: unknown) =>
  expect(readCounters(answer)).toMatchObject({ minutes: 30, visits: visitsCount });
/** A date-keyed last3 answer: read with its last date as the site's today. */
const summary = (todayVisits: number) => (answer: unknown) => {
  const today = Object.keys(answer as object).at(-1)!;
  expect(readSummary(answer, today).today).toMatchObject({ date: today, visits: todayVisits });
};
/** An answer of another shape than the poller asks for: every reader refuses it, so it can never be published. */
const refusedByEveryReader = (answer: unknown) => {
  for (const reader of [
    () => readVisits(answer, TOKYO, VISIT_OPTIONS),
    () => readCounters(answer),
    () => readTodayCounters(answer),
    () => readSummary(answer, '2026-11-29'),
    () => readSiteTimezone(answer),
  ]) {
    expect(reader).toThrow(AnswerShapeError);
  }
};
const timezone = (name: string) => (answer: unknown) => expect(readSiteTimezone(answer).name).toBe(name);
const errorIs = (kind: 'token-refused' | 'ip-blocked' | 'other') => (answer: unknown) => {
  const message = errorMessage(answer);
  expect(message).toEqual(expect.any(String));
  expect(isAuthRefusal(message!)).toBe(kind === 'token-refused');
  expect(isIpBlocked(message!)).toBe(kind === 'ip-blocked');
};

const EXPECTATIONS: Record<string, Expectation> = {
  'bulk-4-requests.json': { bulk: [visits(TOKYO, 5), counters(3), summary(4), timezone('Asia/Tokyo')] },
  'final-instance-bulk-4-requests.json': { bulk: [visits(TOKYO, 5), counters(3), summary(4), timezone('Asia/Tokyo')] },
  'bulk-4-requests-wrong-token.json': { client: 'auth' },
  // No token at all: every part refused (HTTP 200); the poller always sends one, and would report each part.
  'bulk-4-requests-no-token.json': {
    bulk: [errorIs('token-refused'), errorIs('token-refused'), errorIs('token-refused'), errorIs('token-refused')],
  },
  'bulk-mixed-errors.json': {
    bulk: [errorIs('other'), counters(0), (a) => expect(() => readSummary(a, '2026-11-28')).toThrow(AnswerShapeError), errorIs('other')],
  },
  'live-getLastVisitsDetails-site1-all.json': { read: visits(TOKYO, 7) },
  'live-getLastVisitsDetails-site2.json': { read: visits(NEW_YORK, 2) },
  'live-getLastVisitsDetails-site1-limit2-period-day-today.json': { read: visits(TOKYO, 2) },
  'live-getLastVisitsDetails-site1-minTimestamp.json': { read: visits(TOKYO, 3) },
  'live-getCounters-30.json': { read: counters(3) },
  'live-getCounters-1440.json': { read: (a) => expect(readTodayCounters(a)).toEqual({ visits: 4, actions: 7 }) },
  'live-getCounters-site2-30.json': { read: counters(1) },
  'live-getCounters-idSite-99.json': { read: counters(0) },
  'live-getCounters-token-in-GET.json': { read: counters(3) },
  'live-getCounters-POST-format-in-query-valid.json': { read: counters(3) },
  'live-getCounters-missing-lastMinutes.json': { error: 'other' },
  'live-getCounters-lastMinutes-abc.json': { error: 'other' },
  'live-getCounters-no-format.xml': { client: 'not-json' },
  'live-getCounters-wrong-token.json': { client: 'auth' },
  'live-getCounters-no-token.json': { client: 'auth' },
  'live-getCounters-wrong-token-GET.json': { client: 'auth' },
  'live-getCounters-wrong-token-no-format.xml': { client: 'auth' },
  'live-getCounters-wrong-token-POST-format-in-query.json': { client: 'auth' },
  'live-getLastVisitsDetails-no-format.xml': { client: 'not-json' },
  'visitsSummary-site1-day-last3.json': { read: summary(4) },
  'visitsSummary-site2-day-last3.json': { read: summary(1) },
  // Not the three days ending today, or not keyed by date: refused rather than shifted.
  'visitsSummary-site1-day-last7.json': { read: (a) => expect(() => readSummary(a, '2026-11-29')).toThrow(/expected dates/) },
  'visitsSummary-site1-day-today.json': { read: refusedByEveryReader },
  'visitsSummary-site1-day-yesterday.json': { read: refusedByEveryReader },
  'visitsSummary-site1-range-last3.json': { read: refusedByEveryReader },
  'visitsSummary-site1-and-2-day-last3.json': { read: refusedByEveryReader },
  'visitsSummary-site1-day-last3-no-format.xml': { client: 'not-json' },
  'visitsSummary-site1-missing-period.json': { error: 'other' },
  'visitsSummary-site1-bad-date.json': { error: 'other' },
  'visitsSummary-idSite-99.json': { error: 'other' },
  'sites-getSiteFromId-1.json': { read: timezone('Asia/Tokyo') },
  'sites-getSiteFromId-2.json': { read: timezone('America/New_York') },
  'sites-getSiteFromId-99.json': { error: 'other' },
  'sites-getSitesWithAtLeastViewAccess.json': {
    read: (a) => expect((a as unknown[]).map((site) => readSiteTimezone(site).name)).toEqual(['Asia/Tokyo', 'America/New_York']),
  },
  'api-getMatomoVersion.json': { read: refusedByEveryReader },
  'api-no-method.json': { error: 'other' },
  'api-unknown-method.json': { error: 'other' },
  'api-bad-format.txt': { client: 'not-json' },
  'usersManager-token-wrong-password.json': { error: 'other' },
  'usersManager-token-wrong-strong-password.json': { error: 'other' },
  'bruteforce-blocked-valid-token.json': { client: 'auth-blocked' },
  'bruteforce-blocked-valid-token-format-in-body.json': { client: 'auth-blocked' },
  // Tracking answers: never Reporting API data. The client refuses them; tests read the bulk ones.
  'bruteforce-blocked-tracking-request.txt': { client: 'http' },
  'tracking-GET-send_image0-ok.txt': { client: 'http' },
  'tracking-GET-image-ok.gif': { client: 'not-json' },
  'tracking-GET-bad-idsite.txt': { client: 'http' },
  'tracking-GET-cip-wrong-token.txt': { client: 'http' },
  'tracking-bulk-ok.json': { read: (a) => expect(readTrackingAnswer(JSON.stringify(a))).toEqual({ tracked: 1, invalid: 0 }) },
  'tracking-bulk-one-invalid.json': { read: (a) => expect(readTrackingAnswer(JSON.stringify(a))).toEqual({ tracked: 1, invalid: 1 }) },
};

/** Replays one file over HTTP with its real status and content type. */
let server: Server;
let replaying = '';
let dispatcher: Agent;
let baseUrl: string;
beforeAll(async () => {
  server = createServer((_req, res) => {
    const { status, contentType } = index.get(replaying)!;
    const bytes = readFileSync(join(DIR, replaying));
    res.writeHead(status, { 'content-type': contentType, 'content-length': bytes.length }).end(status === 204 ? undefined : bytes);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  dispatcher = new Agent();
});
afterAll(async () => {
  await dispatcher.close();
  server.close();
});

async function replay(file: string, size: number): Promise<unknown[] | MatomoRequestError> {
  replaying = file;
  const bulk: BulkRequest = { query: BULK_QUERY, body: 'urls%5B0%5D=x', size, slots: [], methods: [] };
  return postBulkRequest(bulk, { baseUrl, dispatcher, timeoutMs: 5000 }).then(
    (answer) => answer.answers,
    (error: unknown) => {
      if (error instanceof MatomoRequestError) return error;
      throw error;
    },
  );
}

describe('every real Matomo answer in fixtures/real-matomo', () => {
  const files = readdirSync(DIR).filter((f) => f !== 'INDEX.tsv');

  it('has 54 answers, each in INDEX.tsv and each with an expectation here', () => {
    expect(files).toHaveLength(54);
    expect(files.filter((f) => !index.has(f))).toEqual([]);
    expect(files.filter((f) => !(f in EXPECTATIONS))).toEqual([]);
    expect(Object.keys(EXPECTATIONS).filter((f) => !files.includes(f))).toEqual([]);
  });

  it.each(files)('%s', async (file) => {
    const expectation = EXPECTATIONS[file]!;
    if ('client' in expectation) {
      const result = await replay(file, 4);
      expect(result).toBeInstanceOf(MatomoRequestError);
      expect((result as MatomoRequestError).kind).toBe(expectation.client);
    } else if ('bulk' in expectation) {
      const answers = await replay(file, expectation.bulk.length);
      if (answers instanceof MatomoRequestError) throw answers;
      expectation.bulk.forEach((check, i) => check(answers[i]));
    } else if ('read' in expectation) {
      expectation.read(json(file));
    } else {
      errorIs(expectation.error)(json(file));
    }
  });
});
