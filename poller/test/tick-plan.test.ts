import { parseSiteTimezone } from '@matomo-live/shared';
import { createSiteState } from '../src/site-state';
import { planSite, type PlanConfig } from '../src/tick-plan';
import { freshCursor } from '../src/visit-cursor';

const config: PlanConfig = {
  eventsRetentionMs: 3_600_000,
  eventsPerTick: 100,
  liveRefreshIntervalMs: 60_000,
  summaryIntervalMs: 300_000,
  todayIntervalMs: 10_000,
  liveLimit: 5,
};
const paris = parseSiteTimezone('Europe/Paris');
const NOW = Date.UTC(2026, 5, 10, 12, 0, 0);
const summaryOf = (date: string) => ({ today: { date } }) as never;

/** A site led for a while: timezone, totals, today and a seeded, current cursor. */
function settledSite() {
  const s = createSiteState(5, false);
  s.site.succeed(paris, NOW - 1000);
  s.summary.succeed(summaryOf('2026-06-10'), NOW - 1000);
  s.today.succeed({ date: '2026-06-10' } as never, NOW - 1000);
  s.visits.succeed(true, NOW - 1000);
  s.latest.seed([]);
  s.cursorState = freshCursor(Math.floor(NOW / 1000) - 5, 0);
  return s;
}

describe('planSite', () => {
  it('a new site: asks its timezone, totals and the full read, no cursor and no today before the timezone', () => {
    const plan = planSite(3, createSiteState(5, false), NOW, 0, config, 1000);
    expect(plan.query).toEqual({
      siteId: 3,
      liveLimit: 5,
      withVisits: true,
      cursor: undefined,
      withSite: true,
      withSummary: true,
      todayMinutes: undefined,
    });
    expect(plan.cursor).toBeUndefined();
    expect(plan.todayWindow).toBeUndefined();
  });

  it('a settled site: only the cursor while nothing else is due', () => {
    const plan = planSite(1, settledSite(), NOW, 0, config, 1000);
    expect(plan.query).toMatchObject({ withVisits: false, withSite: false, withSummary: false, todayMinutes: undefined });
    expect(plan.query.cursor).toBeDefined();
    expect(plan.cursor?.jumped).toBe(false);
  });

  it('today when due, over the minutes since local midnight (Paris: UTC+2 in June)', () => {
    const plan = planSite(1, settledSite(), NOW + 10_000, 0, config, 1000);
    expect(plan.todayWindow?.date).toBe('2026-06-10');
    expect(plan.query.todayMinutes).toBe(14 * 60 + 1);
  });

  it("after local midnight (in Matomo's clock) totals and today are of another day: asked at once", () => {
    const twelveHours = 12 * 3600_000;
    const plan = planSite(1, settledSite(), NOW, twelveHours, config, 1000);
    expect(plan.query).toMatchObject({ withSummary: true, withSite: true });
    expect(plan.todayWindow?.date).toBe('2026-06-11');
  });

  it('the full read again while the cursor fails or catches up, or when LIVE_REFRESH_INTERVAL is due', () => {
    const failing = settledSite();
    failing.cursor.fail('HTTP 502', 'http', NOW - 10);
    expect(planSite(1, failing, NOW, 0, config, 1000).query.withVisits).toBe(true);
    const catchingUp = settledSite();
    catchingUp.catchingUp = true;
    expect(planSite(1, catchingUp, NOW, 0, config, 1000).query.withVisits).toBe(true);
    expect(planSite(1, settledSite(), NOW + 60_000, 0, config, 1000).query.withVisits).toBe(true);
  });

  it('a cursor older than the retention jumps', () => {
    const s = settledSite();
    s.cursorState = freshCursor(Math.floor(NOW / 1000), 2 * 3600);
    expect(planSite(1, s, NOW, 0, config, 1000).cursor?.jumped).toBe(true);
  });
});
