import { buildBulkRequest } from '../src/bulk-request';

describe('buildBulkRequest', () => {
  const bulk = buildBulkRequest(
    [
      { siteId: 1, liveLimit: 5, withSite: true, withSummary: true },
      { siteId: 2, liveLimit: 3, withSite: false, withSummary: false },
    ],
    'secret-token',
  );
  const form = new URLSearchParams(bulk.body);
  const sub = (i: number) => Object.fromEntries(new URLSearchParams(form.get(`urls[${i}]`)!));

  it('is one API.getBulkRequest with the token once, in the body', () => {
    expect(form.get('module')).toBe('API');
    expect(form.get('method')).toBe('API.getBulkRequest');
    expect(form.get('format')).toBe('json');
    expect(form.getAll('token_auth')).toEqual(['secret-token']);
    for (let i = 0; i < bulk.size; i++) expect(form.get(`urls[${i}]`)).not.toContain('token');
  });

  it('asks the live visits cheaply, counters, and timezone and totals only when asked', () => {
    expect(bulk.methods).toEqual([
      'Live.getLastVisitsDetails',
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
    expect(sub(1)).toMatchObject({ idSite: '1', lastMinutes: '30' });
    expect(sub(3)).toMatchObject({ idSite: '1', period: 'day', date: 'last3', format_metrics: '0' });
    expect(sub(4)).toMatchObject({ idSite: '2', filter_limit: '3' });
  });

  it("says where each site's answers are", () => {
    expect(bulk.slots).toEqual([
      { siteId: 1, visits: 0, counters: 1, site: 2, summary: 3 },
      { siteId: 2, visits: 4, counters: 5, site: undefined, summary: undefined },
    ]);
    expect(bulk.size).toBe(6);
  });
});
