import { buildBulkRequest } from '../src/bulk-request';

describe('buildBulkRequest', () => {
  const bulk = buildBulkRequest(
    [
      { siteId: 1, liveLimit: 5, withVisits: true, withSite: true, withSummary: true, todayMinutes: 1201 },
      {
        siteId: 2,
        liveLimit: 3,
        withVisits: false,
        cursor: { minTimestamp: 1795950110, filterOffset: 0, filterLimit: 101 },
        withSite: false,
        withSummary: false,
      },
      {
        siteId: 3,
        liveLimit: 3,
        withVisits: true,
        cursor: { minTimestamp: 1795950111, filterOffset: 100, filterLimit: 101 },
        withSite: false,
        withSummary: false,
      },
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
      'Live.getLastVisitsDetails',
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
    expect(sub(7)).toMatchObject({ idSite: '3', filter_limit: '3', period: 'day', date: 'today' });
  });

  it('asks for the visits after the cursor oldest first, one more than taken, without a date window', () => {
    const cursor = sub(5);
    expect(cursor).toMatchObject({
      method: 'Live.getLastVisitsDetails',
      idSite: '2',
      minTimestamp: '1795950110',
      filter_sort_order: 'asc',
      filter_limit: '101',
      doNotFetchActions: '1',
    });
    expect(cursor.showColumns!.split(',')).toEqual(expect.arrayContaining(['idVisit', 'actions', 'lastActionTimestamp']));
    expect(cursor).not.toHaveProperty('period');
    expect(cursor).not.toHaveProperty('date');
    expect(cursor).not.toHaveProperty('filter_offset');
    // Paging inside one crowded second.
    expect(sub(8)).toMatchObject({ idSite: '3', minTimestamp: '1795950111', filter_offset: '100' });
  });

  it("says where each site's answers are", () => {
    expect(bulk.slots).toEqual([
      { siteId: 1, parts: { visits: 0, counters: 1, today: 2, site: 3, summary: 4 } },
      { siteId: 2, parts: { cursor: 5, counters: 6 } },
      { siteId: 3, parts: { visits: 7, cursor: 8, counters: 9 } },
    ]);
    expect(bulk.size).toBe(10);
  });
});
