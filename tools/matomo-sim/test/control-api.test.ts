import { startMatomoSim, type MatomoSim, type SimStats } from '@matomo-live/matomo-sim';

let sim: MatomoSim;
beforeEach(async () => {
  sim = await startMatomoSim({ token: 'ctl-token', now: () => Date.parse('2024-07-04T16:43:37Z') });
});
afterEach(() => sim.close());

async function control(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${sim.url}_sim/${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

async function live(): Promise<Response> {
  const body = new URLSearchParams({
    module: 'API',
    method: 'API.getBulkRequest',
    format: 'json',
    token_auth: 'ctl-token',
    'urls[0]': 'method=Live.getLastVisitsDetails&idSite=1&period=day&date=today&showColumns=city,actions',
    'urls[1]': 'method=VisitsSummary.get&idSite=1&period=day&date=today&format_metrics=0',
  });
  return fetch(`${sim.url}index.php`, { method: 'POST', body });
}

describe('the /_sim/ control API', () => {
  it("POST /_sim/visits adds a visit and bumps today's totals", async () => {
    const added = await control('POST', 'visits', { city: 'Lyon', latitude: 45.764, longitude: 4.8357, actions: 2 });
    expect(added).toMatchObject({ status: 201, json: { city: 'Lyon', latitude: '45.764000', actions: 2 } });
    expect(await (await live()).json()).toEqual([[{ city: 'Lyon', actions: 2 }], expect.objectContaining({ nb_visits: 1, nb_actions: 2 })]);
  });

  it('POST /_sim/visits with an array adds a burst; POST /_sim/visits/ID is another hit on a visit', async () => {
    const burst = await control('POST', 'visits', [{ city: 'A' }, { city: 'B' }, { city: 'C' }]);
    expect(burst.status).toBe(201);
    const visits = burst.json as Array<{ idVisit: number; city: string; actions: number }>;
    const ids = visits.map((v) => v.idVisit);
    expect(new Set(ids).size).toBe(3);
    const more = await control('POST', `visits/${ids[0]}`, { actions: 2 });
    expect(more).toMatchObject({ status: 200, json: { idVisit: ids[0], city: 'A', actions: visits[0]!.actions + 2 } });
    // A content impression: the last action moves, the count does not.
    const impression = await control('POST', `visits/${ids[1]}`, {
      actions: 0,
      lastActionTimestamp: Date.parse('2024-07-04T16:43:40Z') / 1000,
    });
    expect(impression.json).toMatchObject({ actions: visits[1]!.actions, lastActionTimestamp: Date.parse('2024-07-04T16:43:40Z') / 1000 });
    expect(await control('POST', 'visits/999999', {})).toMatchObject({ status: 400, json: { error: 'unknown visit 999999' } });
    expect((await control('POST', 'visits', [{ city: 'ok' }, 'nope'])).json).toEqual({ error: 'visit 1 must be a JSON object' });
  });

  it("POST /_sim/summary replaces today's totals", async () => {
    expect((await control('POST', 'summary', { today: { nb_visits: 42, sum_visit_length: 4200 } })).status).toBe(200);
    const [, today] = (await (await live()).json()) as [unknown, { nb_visits: number }];
    expect(today).toMatchObject({ nb_visits: 42, sum_visit_length: 4200 });
  });

  it('POST /_sim/faults injects a fault; kind "none" clears it', async () => {
    expect((await control('POST', 'faults', { kind: 'http-5xx', count: -1 })).status).toBe(200);
    expect((await live()).status).toBe(503);
    await control('POST', 'faults', { kind: 'none' });
    expect((await live()).status).toBe(200);
  });

  it('GET /_sim/stats counts API requests only; POST /_sim/reset forgets everything', async () => {
    await control('POST', 'visits', {});
    await live();
    const stats = (await control('GET', 'stats')).json as SimStats;
    expect(stats).toMatchObject({ requests: 1, bulkRequests: 1, subRequests: { 'Live.getLastVisitsDetails': 1, 'VisitsSummary.get': 1 } });
    await control('POST', 'reset');
    expect((await control('GET', 'stats')).json).toMatchObject({ requests: 0 });
    expect(await (await live()).json()).toEqual([[], expect.objectContaining({ nb_visits: 0 })]);
  });

  it('POST /_sim/sites adds a site with its timezone', async () => {
    await control('POST', 'sites', { siteId: 5, timezone: 'UTC+3' });
    const body = new URLSearchParams({
      module: 'API',
      method: 'SitesManager.getSiteFromId',
      idSite: '5',
      format: 'json',
      token_auth: 'ctl-token',
    });
    expect(await (await fetch(`${sim.url}index.php`, { method: 'POST', body })).json()).toMatchObject({ idsite: 5, timezone: 'UTC+3' });
  });

  it.each([
    ['POST', 'faults', { kind: 'bogus' }, /kind must be one of/],
    ['POST', 'visits', '{not json', /must be JSON/],
    ['POST', 'visits', { latitude: 'north' }, /latitude must be a number/],
    ['POST', 'summary', { siteId: 99, today: { nb_visits: 1 } }, /unknown site 99/],
    ['POST', 'sites', { siteId: 2, timezone: 'Mars/Olympus' }, /timezone/],
  ])('%s /_sim/%s with bad input answers 400 with a clear error', async (method, path, body, message) => {
    const res = await control(method, path, body);
    expect(res.status).toBe(400);
    expect(res.json.error).toMatch(message);
  });

  it('answers 404 for an unknown route', async () => {
    expect((await control('GET', 'nope')).status).toBe(404);
  });
});
