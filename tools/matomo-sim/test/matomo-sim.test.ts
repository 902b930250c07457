import { startMatomoSim, type MatomoSim } from '@matomo-live/matomo-sim';
import { waitFor } from '@matomo-live/test-support/wait-for';

const TOKEN = 'sim-test-token';
// 2024-07-04 16:43:37 UTC = 18:43:37 in Paris, the real fixture's visit time.
const NOW = Date.parse('2024-07-04T16:43:37Z');

let sim: MatomoSim;
let clock = NOW;

beforeEach(async () => {
  clock = NOW;
  sim = await startMatomoSim({ token: TOKEN, siteIds: [1, 2], timezone: 'Europe/Paris', now: () => clock });
});
afterEach(() => sim.close());

/** The poller's form: module, method and format in the URL (so errors are JSON), token and urls in the body. */
const API_QUERY = '?module=API&method=API.getBulkRequest&format=json';

async function bulk(
  urls: string[],
  init: { token?: string | null; query?: string; formatInBody?: boolean; signal?: AbortSignal } = {},
): Promise<Response> {
  const body = new URLSearchParams(init.formatInBody ? { module: 'API', method: 'API.getBulkRequest', format: 'json' } : {});
  if (init.token !== null) body.set('token_auth', init.token ?? TOKEN);
  urls.forEach((u, i) => body.set(`urls[${i}]`, u));
  const query = init.query ?? (init.formatInBody ? '' : API_QUERY);
  return fetch(`${sim.url}index.php${query}`, { method: 'POST', body, signal: init.signal ?? AbortSignal.timeout(5000) });
}

async function bulkJson(urls: string[]): Promise<unknown[]> {
  const res = await bulk(urls);
  expect(res.status).toBe(200);
  return (await res.json()) as unknown[];
}

const LIVE = 'method=Live.getLastVisitsDetails&idSite=1&period=day&date=today&filter_limit=5&doNotFetchActions=1';

describe('the Matomo API', () => {
  it('answers a bulk request in order, in the real shapes', async () => {
    sim.addVisit({ city: 'Bezons', latitude: 48.924, longitude: 2.213, actions: 3, visitDuration: 33, referrerName: 'Google' });
    const [visits, counters, summary, site] = await bulkJson([
      LIVE,
      'method=Live.getCounters&idSite=1&lastMinutes=30',
      'method=VisitsSummary.get&idSite=1&period=day&date=last3&format_metrics=0',
      'method=SitesManager.getSiteFromId&idSite=1',
    ]);
    expect(visits).toEqual([
      expect.objectContaining({
        city: 'Bezons',
        latitude: '48.924000',
        longitude: '2.213000',
        idSite: 1,
        actions: 3,
        visitDuration: 33,
        visitServerHour: '16',
        referrerName: 'Google',
        lastActionTimestamp: NOW / 1000,
        lastActionDateTime: '2024-07-04 16:43:37',
        serverTimePretty: '18:43:37',
        serverDatePretty: 'Thursday, July 4, 2024',
        actionDetails: [],
      }),
    ]);
    expect(counters).toEqual([{ visits: 1, actions: 3, visitors: 1, visitsConverted: expect.any(Number) }]);
    expect(Object.keys(summary as object)).toEqual(['2024-07-02', '2024-07-03', '2024-07-04']);
    expect(summary).toMatchObject({
      '2024-07-02': [],
      '2024-07-03': [],
      '2024-07-04': { nb_visits: 1, nb_actions: 3, sum_visit_length: 33 },
    });
    expect(site).toMatchObject({ idsite: 1, timezone: 'Europe/Paris', ecommerce: 0, timezone_name: 'Europe/Paris' });
  });

  it('escapes slashes as PHP json_encode does', async () => {
    const res = await bulk(['method=SitesManager.getSiteFromId&idSite=1']);
    expect(await res.text()).toContain('"timezone":"Europe\\/Paris"');
  });

  it('honours filter_limit, showColumns, minTimestamp and newest-first order', async () => {
    for (let i = 0; i < 4; i++) sim.addVisit({ lastActionTimestamp: NOW / 1000 - 40 + i * 10, city: `C${i}` });
    const [limited, since] = await bulkJson([
      'method=Live.getLastVisitsDetails&idSite=1&period=day&date=today&filter_limit=2&showColumns=city,lastActionTimestamp',
      `method=Live.getLastVisitsDetails&idSite=1&period=day&date=today&minTimestamp=${NOW / 1000 - 20}&showColumns=city`,
    ]);
    expect(limited).toEqual([
      { city: 'C3', lastActionTimestamp: NOW / 1000 - 10 },
      { city: 'C2', lastActionTimestamp: NOW / 1000 - 20 },
    ]);
    expect(since).toEqual([{ city: 'C3' }]);
  });

  it('answers date=today with visits since yesterday 00:00 site time, not older', async () => {
    const parisMidnightYesterday = Date.parse('2024-07-02T22:00:00Z') / 1000;
    sim.addVisit({ city: 'old', lastActionTimestamp: parisMidnightYesterday - 1 });
    sim.addVisit({ city: 'yesterday', lastActionTimestamp: parisMidnightYesterday });
    const [visits] = await bulkJson([`${LIVE}&showColumns=city`]);
    expect(visits).toEqual([{ city: 'yesterday' }]);
  });

  it('counts only visits within lastMinutes', async () => {
    sim.addVisit({ actions: 2, lastActionTimestamp: NOW / 1000 - 31 * 60 });
    sim.addVisit({ actions: 4 });
    const [counters] = await bulkJson(['method=Live.getCounters&idSite=1&lastMinutes=30']);
    expect(counters).toEqual([expect.objectContaining({ visits: 1, actions: 4 })]);
  });

  it('keeps null coordinates for an unknown location', async () => {
    sim.addVisit({ latitude: null, longitude: null, city: '' });
    const [visits] = await bulkJson([`${LIVE}&showColumns=latitude,longitude,city`]);
    expect(visits).toEqual([{ latitude: null, longitude: null, city: null }]);
  });

  it('serves set totals keyed by date, oldest first, formatted unless format_metrics=0', async () => {
    sim.setSummary({ today: { nb_visits: 10, sum_visit_length: 3600, bounce_count: 5 }, yesterday: { nb_visits: 7 }, day_before: null });
    const [raw, formatted, single] = await bulkJson([
      'method=VisitsSummary.get&idSite=1&period=day&date=last3&format_metrics=0',
      'method=VisitsSummary.get&idSite=1&period=day&date=last3',
      'method=VisitsSummary.get&idSite=1&period=day&date=yesterday',
    ]);
    expect(raw).toEqual({
      '2024-07-02': [],
      '2024-07-03': expect.objectContaining({ nb_visits: 7, sum_visit_length: 0 }),
      '2024-07-04': expect.objectContaining({ nb_visits: 10, sum_visit_length: 3600, bounce_rate: 0.5, avg_time_on_site: 360 }),
    });
    expect((formatted as Record<string, { bounce_rate?: unknown }>)['2024-07-04']?.bounce_rate).toBe('50%');
    expect(single).toMatchObject({ nb_visits: 7 });
  });

  it('resolves previousN and A,B date ranges, and hideColumns', async () => {
    sim.setSummary({ yesterday: { nb_visits: 2 } });
    const [previous, range] = await bulkJson([
      'method=VisitsSummary.get&idSite=1&period=day&date=previous2&format_metrics=0&hideColumns=bounce_rate',
      'method=VisitsSummary.get&idSite=1&period=day&date=2024-07-01,2024-07-03&format_metrics=0',
    ]);
    expect(Object.keys(previous as object)).toEqual(['2024-07-02', '2024-07-03']);
    expect((previous as Record<string, object>)['2024-07-03']).not.toHaveProperty('bounce_rate');
    expect(Object.keys(range as object)).toEqual(['2024-07-01', '2024-07-02', '2024-07-03']);
    const [bad] = await bulkJson(['method=VisitsSummary.get&idSite=1&period=day&date=2024-07-03,2024-07-01']);
    expect(bad).toMatchObject({ result: 'error' });
  });

  it('resolves "today" in each site\'s timezone', async () => {
    clock = Date.parse('2024-07-04T22:30:00Z'); // already July 5th in Paris, still July 4th in UTC-4.5
    sim.setSite({ siteId: 2, timezone: 'UTC-4.5' });
    const [paris, west] = await bulkJson([
      'method=VisitsSummary.get&idSite=1&period=day&date=last3&format_metrics=0',
      'method=VisitsSummary.get&idSite=2&period=day&date=last3&format_metrics=0',
    ]);
    expect(Object.keys(paris as object).at(-1)).toBe('2024-07-05');
    expect(Object.keys(west as object).at(-1)).toBe('2024-07-04');
  });

  it('answers an unknown site or method with an error at its position, HTTP 200', async () => {
    const [bad, good, unknown] = await bulkJson([
      'method=SitesManager.getSiteFromId&idSite=9',
      'method=SitesManager.getSiteFromId&idSite=2',
      'method=Nope.get&idSite=1',
    ]);
    expect(bad).toEqual({ result: 'error', message: "An unexpected website was found in the request: website id was set to '9' ." });
    expect(good).toMatchObject({ idsite: 2 });
    expect(unknown).toEqual({
      result: 'error',
      message: 'The plugin Nope is not enabled. You can activate the plugin on Settings &gt; Plugins page in Matomo.',
    });
    const [counters] = await bulkJson(['method=Live.getCounters&idSite=9&lastMinutes=30']);
    expect(counters).toEqual([{ visits: 0, actions: 0, visitors: 0, visitsConverted: 0 }]);
  });

  it('refuses a wrong token with HTTP 401: JSON when format is in the URL, the HTML error page when only in the body', async () => {
    const json = await bulk([LIVE], { token: 'wrong' });
    expect(json.status).toBe(401);
    expect(await json.json()).toEqual({
      result: 'error',
      message: 'Unable to authenticate with the provided token. It is either invalid or expired.',
    });
    const html = await bulk([LIVE], { token: 'wrong', formatInBody: true });
    expect(html.status).toBe(401);
    expect(html.headers.get('content-type')).toContain('text/html');
    expect(await html.text()).toContain('<h2>Unable to authenticate with the provided token.');
    expect(sim.stats().authFailures).toBe(2);
  });

  it('answers a request without a token as anonymous: each part of a bulk request refused, HTTP 200', async () => {
    const res = await bulk([LIVE, 'method=Live.getCounters&idSite=2&lastMinutes=30'], { token: null });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual([
      { result: 'error', message: "You can't access this resource as it requires 'view' access for the website id = 1." },
      { result: 'error', message: "You can't access this resource as it requires 'view' access for the website id = 2." },
    ]);
    const single = await fetch(`${sim.url}index.php?module=API&method=Live.getCounters&format=json&idSite=1&lastMinutes=30`);
    expect(single.status).toBe(401);
  });

  it("sends its own clock in the Date header, as Matomo's server does", async () => {
    const res = await bulk([LIVE]);
    expect(res.headers.get('date')).toBe(new Date(NOW).toUTCString());
  });

  it('refuses a token in the URL and counts it', async () => {
    const res = await bulk([LIVE], { query: `${API_QUERY}&token_auth=${TOKEN}` });
    expect(res.status).toBe(401);
    expect(sim.stats()).toMatchObject({ tokenInUrl: 1, authFailures: 1 });
  });
});

describe('Live.getCounters and showColumns as real Matomo answers them', () => {
  it('counts the action rows inside the window, and keeps only showColumns', async () => {
    // Four actions 10 min apart, the last one now: a 15-minute window holds the last two only.
    sim.addVisit({ actions: 4, lastActionTimestamp: NOW / 1000, visitDuration: 1800 });
    const [all, two, one, none] = await bulkJson([
      'method=Live.getCounters&idSite=1&lastMinutes=15',
      'method=Live.getCounters&idSite=1&lastMinutes=15&showColumns=visits,actions',
      'method=Live.getCounters&idSite=1&lastMinutes=60&showColumns=visits',
      'method=Live.getCounters&idSite=1&lastMinutes=60&hideColumns=visitors,visitsConverted,actions',
    ]);
    expect(all).toEqual([{ visits: 1, actions: 2, visitors: 1, visitsConverted: 0 }]);
    expect(two).toEqual([{ visits: 1, actions: 2 }]);
    expect(one).toEqual([{ visits: 1 }]);
    expect(none).toEqual([{ visits: 1 }]);
  });

  it("refuses lastMinutes outside 1…2880 or missing with Matomo's messages", async () => {
    const answers = await bulkJson([
      'method=Live.getCounters&idSite=1&lastMinutes=0',
      'method=Live.getCounters&idSite=1&lastMinutes=2881',
      'method=Live.getCounters&idSite=1&lastMinutes=abc',
      'method=Live.getCounters&idSite=1',
    ]);
    expect(answers).toEqual([
      { result: 'error', message: 'lastMinutes only accepts values between 1 and 2880' },
      { result: 'error', message: 'lastMinutes only accepts values between 1 and 2880' },
      { result: 'error', message: "Please specify a value for 'lastMinutes'." },
      { result: 'error', message: "Please specify a value for 'lastMinutes'." },
    ]);
  });

  it('VisitsSummary.get with one showColumns answers bare numbers; one day without data is zeros', async () => {
    sim.setSummary({ today: { nb_visits: 7 }, yesterday: { nb_visits: 2 }, day_before: null });
    const [one, several, empty, missing] = await bulkJson([
      'method=VisitsSummary.get&idSite=1&period=day&date=today&showColumns=nb_visits',
      'method=VisitsSummary.get&idSite=1&period=day&date=last3&showColumns=nb_visits',
      'method=VisitsSummary.get&idSite=1&period=day&date=2024-07-02&format_metrics=0',
      'method=VisitsSummary.get&idSite=1&date=today',
    ]);
    expect(one).toEqual({ value: 7 });
    expect(several).toEqual({ '2024-07-02': [], '2024-07-03': 2, '2024-07-04': 7 });
    expect(empty).toMatchObject({ nb_visits: 0, sum_visit_length: 0, bounce_rate: 0 });
    expect(missing).toEqual({ result: 'error', message: "Please specify a value for 'period'." });
  });

  it('orders visits oldest first with filter_sort_order=asc', async () => {
    for (let i = 0; i < 3; i++) sim.addVisit({ lastActionTimestamp: NOW / 1000 - 30 + i * 10, city: `C${i}` });
    const [asc] = await bulkJson([`${LIVE}&filter_sort_order=asc&showColumns=city`]);
    expect(asc).toEqual([{ city: 'C0' }, { city: 'C1' }, { city: 'C2' }]);
  });
});

describe('brute-force detection, as Matomo does it', () => {
  it('blocks every request with a token after more than 20 refused tokens within an hour, until they age out', async () => {
    for (let i = 0; i < 20; i++) expect((await bulk([LIVE], { token: `wrong-${i}` })).status).toBe(401);
    expect((await bulk([LIVE])).status).toBe(200); // 20 failures: still allowed
    expect((await bulk([LIVE], { token: 'wrong-21' })).status).toBe(401);
    const blocked = await bulk([LIVE]);
    expect(blocked.status).toBe(500);
    expect(await blocked.json()).toEqual({
      result: 'error',
      message: 'Too many failed logins. Please wait and try logging in again later.',
    });
    const html = await bulk([LIVE], { formatInBody: true });
    expect(html.status).toBe(500);
    expect(await html.text()).toContain('<h2>Too many failed logins.');
    // Refusals while blocked are not recorded, so the block does not extend itself.
    expect((await bulk([LIVE], { token: 'wrong-22' })).status).toBe(500);
    expect(sim.stats().authFailures).toBe(21);
    clock += 3_600_000;
    expect((await bulk([LIVE])).status).toBe(200);
  });

  it('unblock() forgets the failures; bruteForce: false turns the model off', async () => {
    for (let i = 0; i < 21; i++) await bulk([LIVE], { token: 'wrong' });
    expect((await bulk([LIVE])).status).toBe(500);
    sim.unblock();
    expect((await bulk([LIVE])).status).toBe(200);
    await sim.close();
    sim = await startMatomoSim({ token: TOKEN, now: () => clock, bruteForce: false });
    for (let i = 0; i < 25; i++) await bulk([LIVE], { token: 'wrong' });
    expect((await bulk([LIVE])).status).toBe(200);
  });
});

describe('stats', () => {
  it('counts requests and sub-requests and keeps bodies without the token', async () => {
    await bulkJson([LIVE, 'method=Live.getCounters&idSite=1&lastMinutes=30']);
    await bulkJson([LIVE]);
    await sim.waitForRequests(2);
    const stats = sim.stats();
    expect(stats).toMatchObject({ requests: 2, bulkRequests: 2, subRequests: { 'Live.getLastVisitsDetails': 2, 'Live.getCounters': 1 } });
    expect(stats.recent.map((r) => r.methods)).toEqual([['Live.getLastVisitsDetails', 'Live.getCounters'], ['Live.getLastVisitsDetails']]);
    expect(stats.recent[0]).toMatchObject({ httpMethod: 'POST', url: `/index.php${API_QUERY}`, tokenInBody: true, tokenInUrl: false });
    expect(JSON.stringify(stats)).not.toContain(TOKEN);
    expect(stats.recent[0]!.body).toContain('token_auth=[redacted]');
  });

  it('waitForRequests rejects after its timeout', async () => {
    await expect(sim.waitForRequests(1, 50)).rejects.toThrow(/waited 50 ms/);
  });
});

describe('faults', () => {
  const good = async () => expect(await bulkJson([LIVE])).toEqual([[]]);

  it.each([
    [{ kind: 'http-5xx', status: 502 } as const, 502, 'text/html'],
    [{ kind: 'html-login' } as const, 200, 'text/html'],
    [{ kind: 'auth' } as const, 401, 'application/json'],
    [{ kind: 'auth-blocked' } as const, 500, 'application/json'],
    [{ kind: 'error' } as const, 200, 'application/json'],
  ])('%j answers once, then the simulator is good again', async (fault, status, type) => {
    sim.injectFault(fault);
    const res = await bulk([LIVE]);
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toContain(type);
    const text = await res.text();
    if (fault.kind === 'auth')
      expect(JSON.parse(text)).toMatchObject({ result: 'error', message: expect.stringContaining('Unable to authenticate') });
    if (fault.kind === 'auth-blocked')
      expect(JSON.parse(text)).toMatchObject({ message: expect.stringContaining('Too many failed logins') });
    if (fault.kind === 'error') expect(JSON.parse(text)).toMatchObject({ result: 'error' });
    if (fault.kind === 'html-login') expect(text).toContain('<form id="login_form"');
    await good();
    expect(sim.stats().faultsServed).toEqual({ [fault.kind]: 1 });
  });

  it('invalid-json sends a body JSON.parse rejects', async () => {
    sim.injectFault({ kind: 'invalid-json' });
    const res = await bulk([LIVE]);
    expect(res.status).toBe(200);
    await expect(res.json()).rejects.toThrow();
  });

  it('sub-error and bad-shape hit the chosen sub-request only, and wait for it', async () => {
    const counters = 'method=Live.getCounters&idSite=1&lastMinutes=30';
    const summary = 'method=VisitsSummary.get&idSite=1&period=day&date=last3&format_metrics=0';
    sim.injectFault({ kind: 'sub-error', method: 'VisitsSummary.get', message: 'archiving lock timeout' });
    sim.injectFault({ kind: 'bad-shape', method: 'Live.getCounters', siteId: 2 });
    sim.injectFault({ kind: 'sub-error', method: 'Live.getCounters' });
    // No summary in this request: its fault waits; the counters fault for any site hits site 1's counters.
    expect(await bulkJson([LIVE, counters])).toEqual([[], { result: 'error', message: expect.stringContaining('Lock wait timeout') }]);
    expect(await bulkJson([LIVE, counters, summary, counters.replace('idSite=1', 'idSite=2')])).toEqual([
      [],
      [expect.objectContaining({ visits: 0 })],
      { result: 'error', message: 'archiving lock timeout' },
      { value: 'unexpected' },
    ]);
    expect(await bulkJson([LIVE, counters, summary])).toEqual([[], [expect.objectContaining({ visits: 0 })], expect.any(Object)]);
    expect(sim.stats().faultsServed).toEqual({ 'sub-error': 2, 'bad-shape': 1 });
  });

  it('params picks one of several sub-requests of the same method', async () => {
    sim.injectFault({ kind: 'sub-error', method: 'Live.getCounters', params: { showColumns: 'visits,actions' }, count: -1 });
    const [thirty, today] = await bulkJson([
      'method=Live.getCounters&idSite=1&lastMinutes=30',
      'method=Live.getCounters&idSite=1&lastMinutes=600&showColumns=visits,actions',
    ]);
    expect(thirty).toEqual([expect.objectContaining({ visits: 0 })]);
    expect(today).toMatchObject({ result: 'error' });
    expect(() => sim.injectFault({ kind: 'sub-error', params: { lastMinutes: 30 } as never })).toThrow(/params must be/);
  });

  it('count applies a fault to several requests; -1 until cleared', async () => {
    sim.injectFault({ kind: 'http-5xx', count: 2 });
    expect((await bulk([LIVE])).status).toBe(503);
    expect((await bulk([LIVE])).status).toBe(503);
    await good();
    sim.injectFault({ kind: 'auth', count: -1 });
    for (let i = 0; i < 3; i++) expect((await bulk([LIVE])).status).toBe(401);
    sim.clearFaults();
    await good();
  });

  it('timeout hangs the request until the client gives up', async () => {
    sim.injectFault({ kind: 'timeout' });
    await expect(bulk([LIVE], { signal: AbortSignal.timeout(300) })).rejects.toThrow(/abort|timeout/i);
    await good();
  });

  it('reset cuts the connection', async () => {
    sim.injectFault({ kind: 'reset' });
    await expect(bulk([LIVE])).rejects.toThrow(/fetch failed/);
    await good();
  });

  it('refused closes the port for durationMs, then listens again on the same port', async () => {
    const port = sim.port;
    sim.injectFault({ kind: 'refused', durationMs: 400 });
    const error = (await bulk([LIVE]).catch((e: Error) => e)) as Error & { cause?: { code?: string } };
    expect(error.cause?.code).toBe('ECONNREFUSED');
    await waitFor(
      async () =>
        (await bulk([LIVE])
          .then((r) => r.status)
          .catch(() => 0)) === 200,
      'the port to answer again',
    );
    expect(sim.port).toBe(port);
  });

  it('rejects unknown fault kinds', () => {
    expect(() => sim.injectFault({ kind: 'nope' as never })).toThrow(/kind must be one of/);
  });
});

describe('synthetic visits', () => {
  it('adds visits over time in real cities with coordinates', async () => {
    await sim.close();
    sim = await startMatomoSim({ token: TOKEN, visitEveryMs: 20 });
    await waitFor(async () => ((await bulkJson([LIVE]))[0] as unknown[]).length >= 3, 'three synthetic visits');
    const [visits] = (await bulkJson([`${LIVE}&showColumns=city,latitude,longitude`])) as Array<Array<Record<string, string>>>;
    for (const v of visits!) {
      expect(v.city).not.toBe('');
      expect(Number(v.latitude)).toBeGreaterThanOrEqual(-90);
      expect(Number(v.longitude)).toBeLessThanOrEqual(180);
    }
  });

  it('seedHistory fills yesterday, the day before and a few visits', async () => {
    await sim.close();
    sim = await startMatomoSim({ token: TOKEN, seedHistory: true, now: () => NOW });
    const [visits, summary] = await bulkJson([LIVE, 'method=VisitsSummary.get&idSite=1&period=day&date=last3&format_metrics=0']);
    expect((visits as unknown[]).length).toBe(5);
    // last3: the day before, yesterday and today; the loop below then checks each of them.
    expect(Object.keys(summary as object)).toEqual(['2024-07-02', '2024-07-03', '2024-07-04']);
    for (const day of Object.values(summary as Record<string, { nb_visits: number }>)) expect(day.nb_visits).toBeGreaterThan(0);
  });
});
