import { buildBulkRequest } from '../src/bulk-request';

describe('buildBulkRequest', () => {
  const bulk = buildBulkRequest(
    [
      { siteId: 1, liveLimit: 5, withSite: true, withSummary: true, todayMinutes: 1201 },
      { siteId: 2, liveLimit: 3, withSite: false, withSummary: false },
    ],
    'secret-token',
  );
  const form = new URLSearchParams(bulk.body);
  const sub = (i: number) => Object.fromEntries(new URLSearchParams(form.get(`urls[${i}]`)!));

  it('is one API.getBulkRequest: module, method and format in the URL, the token once, in the body only', () => {
    expect(Object.fromEntries(new URLSearchParams(bulk.query))).toEqual({ module: 'API', method: 'API.getBulkRequest', format: 'json' });
    expect(bulk.query).not.toContain('token');
    expect(form.getAll('token_auth')).toEqual(['secret-token']);
    expect(form.has('module')).toBe(false);
    for (let i = 0; i < bulk.size; i++) expect(form.get(`urls[${i}]`)).not.toContain('token');
  });

  it("asks the live visits cheaply, counters, and today's raw counts, timezone and totals only when asked", () => {
    expect(bulk.methods).toEqual([
      'Live.getLastVisitsDetails',
      'Live.getCounters',
      'Live.getCounters',
      'SitesManager.getSiteFromId',
      'VisitsSummary.get',
      'Live.getLastVisitsDetails',
      'Live.getCounters',
    ]);
    expect(sub(0)).toMatchObject({ idSite: '1', period: 'day', date: 'today', filter_limit: '5', doNotFetchActions: '1' });
    expect(sub(0).showColumns!.split(',')).toEqual(
      expect.arrayContaining(['latitude', 'longitude', 'referrerName', 'lastActionTimestamp']),
    );
    expect(sub(1)).toEqual({ method: 'Live.getCounters', idSite: '1', lastMinutes: '30' });
    // Two columns: Matomo then skips COUNT(DISTINCT idvisitor), the costly query on a busy site.
    expect(sub(2)).toEqual({ method: 'Live.getCounters', idSite: '1', lastMinutes: '1201', showColumns: 'visits,actions' });
    expect(sub(4)).toMatchObject({ idSite: '1', period: 'day', date: 'last3', format_metrics: '0' });
    expect(sub(5)).toMatchObject({ idSite: '2', filter_limit: '3' });
  });

  it("says where each site's answers are", () => {
    expect(bulk.slots).toEqual([
      { siteId: 1, parts: { visits: 0, counters: 1, today: 2, site: 3, summary: 4 } },
      { siteId: 2, parts: { visits: 5, counters: 6 } },
    ]);
    expect(bulk.size).toBe(7);
  });
});
