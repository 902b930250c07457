import type { VisitRow } from '../src/matomo-answers';
import { LatestVisits } from '../src/latest-visits';

const row = (idVisit: number, at: number, actions = 1, located = true): VisitRow => ({
  idVisit,
  actions,
  lastActionTimestamp: at,
  visit: located
    ? {
        latitude: 1,
        longitude: 2,
        city: `c${idVisit}-${actions}`,
        countryCode: '',
        country: '',
        actions,
        visitIp: '',
        operatingSystem: '',
        browserName: '',
        source: '',
        lastActionDateTime: '',
        lastActionUtc: '',
      }
    : null,
});

const cities = (latest: LatestVisits) => latest.visits().map((v) => v.city);

describe('LatestVisits', () => {
  it('is what the latest-visits query answers: newest first, ties by the larger idVisit, limited', () => {
    const latest = new LatestVisits(3);
    expect(latest.seeded).toBe(false);
    latest.seed([row(1, 10), row(2, 20), row(3, 20), row(4, 5)]);
    expect(latest.seeded).toBe(true);
    expect(cities(latest)).toEqual(['c3-1', 'c2-1', 'c1-1']);
  });

  it('follows the incremental fetch: new visits on top, an updated one moves up, no duplicates', () => {
    const latest = new LatestVisits(3);
    latest.seed([row(1, 10), row(2, 20), row(3, 30)]);
    latest.merge([row(1, 40, 2), row(4, 50)]);
    expect(cities(latest)).toEqual(['c4-1', 'c1-2', 'c3-1']);
    // An older row of a visit never replaces a newer one.
    latest.merge([row(4, 45)]);
    expect(cities(latest)).toEqual(['c4-1', 'c1-2', 'c3-1']);
  });

  it('counts a visit without location for its place and shows nothing for it, as before', () => {
    const latest = new LatestVisits(2);
    latest.seed([row(1, 10), row(2, 20, 1, false), row(3, 5)]);
    expect(cities(latest)).toEqual(['c1-1']);
  });

  it("drops visits older than Matomo's window, and forgets everything on clear()", () => {
    const latest = new LatestVisits(5);
    latest.seed([row(1, 10), row(2, 20)]);
    latest.dropBefore(15);
    expect(cities(latest)).toEqual(['c2-1']);
    latest.clear();
    expect(latest.seeded).toBe(false);
    expect(latest.visits()).toEqual([]);
  });
});
