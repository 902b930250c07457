import { parseSiteTimezone, type SnapshotPublisher } from '@matomo-live/shared';
import { capturedLogger } from '@matomo-live/test-support/logger';
import { createSiteState, forgetLeadState, loadCursors, noteAttempt, siteStatus } from '../src/site-state';
import { freshCursor } from '../src/visit-cursor';

describe('site state', () => {
  it('leads for good without leases, from the lease loop with them', () => {
    expect(siteStatus(1, createSiteState(5, false), 0, true).leader).toBe(true);
    expect(siteStatus(1, createSiteState(5, true), 0, true).leader).toBe(false);
  });

  it('reports timezone, ages, failing parts (the site part by its name) and events', () => {
    const s = createSiteState(5, false);
    s.site.succeed(parseSiteTimezone('Europe/Paris'), 1000);
    s.summary.fail('HTTP 502', 'http', 2000);
    s.cursorState = freshCursor(1_800_000_000, 0);
    s.lastSeq = 7;
    const status = siteStatus(4, s, 61_000, true);
    expect(status).toMatchObject({
      siteId: 4,
      timezone: 'Europe/Paris',
      seq: 7,
      summaryAgeSeconds: null,
      failingParts: [{ part: 'summary', failures: 1, since: new Date(2000).toISOString(), error: 'HTTP 502' }],
      events: { enabled: true, cursorAfter: new Date(1_800_000_001_000).toISOString(), visits: 0 },
    });
    s.site.fail('bad', 'shape', 3000);
    expect(siteStatus(4, s, 61_000, true).failingParts.map((p) => p.part)).toEqual(['site', 'summary']);
  });

  it('forgets what only a leader holds', () => {
    const s = createSiteState(5, false);
    s.latest.seed([]);
    s.cursorState = freshCursor(100, 0);
    s.catchingUp = true;
    noteAttempt(s, 100, { kind: 'http', message: 'HTTP 503' });
    s.visits.succeed(true, 50);
    s.cursor.succeed(true, 90);
    forgetLeadState(s);
    expect([s.latest.seeded, s.cursorState, s.catchingUp, s.lastAttempt]).toEqual([false, undefined, false, undefined]);
    // Reads of an earlier stint as leader: their age is not the data's (another poller kept it fresh).
    expect([s.visits.fetchedAt, s.cursor.fetchedAt]).toEqual([undefined, undefined]);
    expect(s.visits.due(200, 60_000, 1000)).toBe(true);
  });
});

describe('loadCursors', () => {
  const publisher = (stored: Awaited<ReturnType<SnapshotPublisher['readCursor']>> | Error): SnapshotPublisher => ({
    readState: async () => null,
    publishHeartbeat: async () => {},
    readCursor: async () => {
      if (stored instanceof Error) throw stored;
      return stored;
    },
    publish: async () => ({ kind: 'not-leader' }),
  });

  it('without events: a fresh cursor a minute back, nothing read', async () => {
    const s = createSiteState(5, false);
    const log = capturedLogger();
    await loadCursors([[1, s]], 10_000, { publisher: publisher(new Error('must not be read')), log: log.logger, eventsRetentionMs: 0 });
    expect(s.cursorState).toMatchObject({ after: 10_000 - 60, offset: 0 });
  });

  it('with events: the stored cursor, else one retention back; a failed read leaves none', async () => {
    const stored = createSiteState(5, false);
    const none = createSiteState(5, false);
    const failing = createSiteState(5, false);
    const log = capturedLogger();
    const deps = (p: SnapshotPublisher) => ({ publisher: p, log: log.logger, eventsRetentionMs: 3_600_000 });
    await loadCursors([[1, stored]], 10_000, deps(publisher({ after: 9000, offset: 2, version: 5, seen: [] })));
    await loadCursors([[2, none]], 10_000, deps(publisher(null)));
    await loadCursors([[3, failing]], 10_000, deps(publisher(new Error('READONLY'))));
    expect(stored.cursorState).toMatchObject({ after: 9000, offset: 2, version: 5 });
    expect(none.cursorState).toMatchObject({ after: 10_000 - 3600, version: 0 });
    expect(failing.cursorState).toBeUndefined();
    expect(log.lines().map((l) => [l.siteId, l.msg])).toEqual([
      [1, 'visit cursor loaded'],
      [2, 'visit cursor loaded'],
      [3, 'could not read the visit cursor; polling without it this tick'],
    ]);
  });
});
