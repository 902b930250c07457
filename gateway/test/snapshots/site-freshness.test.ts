import type { StatusMessage } from '@matomo-live/protocol';
import { encodeHeartbeat, type SiteHeartbeat } from '@matomo-live/shared';
import { capturedLogger, silentLogger } from '@matomo-live/test-support/logger';
import { SiteFreshness } from '../../src/snapshots/site-freshness';
import { ManualClock } from '../support/manual-clock';

const beat = (over: Partial<SiteHeartbeat> = {}): Buffer =>
  encodeHeartbeat({ site: 1, fetch_interval_ms: 2000, data_age_ms: 0, trouble: null, ...over });

function tracker(clock: ManualClock, logger = silentLogger) {
  const reported: StatusMessage[] = [];
  const freshness = new SiteFreshness({ siteId: 1, clock, logger, onChange: (s) => reported.push(s) });
  return { freshness, reported };
}

describe('SiteFreshness', () => {
  it('knows nothing before 15 s of silence, then reports poller_silent once', () => {
    const clock = new ManualClock(1_000_000);
    const { freshness, reported } = tracker(clock);
    clock.advance(14_999);
    expect(reported).toEqual([]);
    expect(freshness.current()).toBeUndefined();
    clock.advance(1);
    expect(reported).toEqual([
      { type: 'status', site: 1, state: 'stale', reason: 'poller_silent', data_age_ms: null, stale_after_ms: 15_000 },
    ]);
    clock.advance(600_000);
    expect(reported).toHaveLength(1);
    // Nothing more can change without a heartbeat: no timer is left.
    expect(clock.timers.size).toBe(0);
  });

  it('is live on a heartbeat, with the wire field order, and stale (poller_silent) after stale_after_ms without one', () => {
    const clock = new ManualClock(0);
    const { freshness, reported } = tracker(clock);
    clock.advance(3_000);
    freshness.heard(beat());
    expect(reported).toEqual([{ type: 'status', site: 1, state: 'live', reason: null, data_age_ms: 0, stale_after_ms: 15_000 }]);
    expect(Object.keys(reported[0]!)).toEqual(['type', 'site', 'state', 'reason', 'data_age_ms', 'stale_after_ms']);
    clock.advance(14_999);
    expect(reported).toHaveLength(1);
    clock.advance(1);
    expect(reported[1]).toEqual({
      type: 'status',
      site: 1,
      state: 'stale',
      reason: 'poller_silent',
      data_age_ms: 15_000,
      stale_after_ms: 15_000,
    });
    // The poller is back.
    freshness.heard(beat({ data_age_ms: 100 }));
    expect(reported.map((s) => [s.state, s.reason])).toEqual([
      ['live', null],
      ['stale', 'poller_silent'],
      ['live', null],
    ]);
  });

  it('reports each change of reason once, however many heartbeats repeat it', () => {
    const clock = new ManualClock(0);
    const { freshness, reported } = tracker(clock);
    freshness.heard(beat());
    for (let i = 0; i < 3; i++) {
      clock.advance(2_000);
      freshness.heard(beat({ trouble: 'matomo_unreachable', data_age_ms: 2_000 * (i + 1) }));
    }
    for (let i = 0; i < 3; i++) {
      clock.advance(2_000);
      freshness.heard(beat({ trouble: 'auth_refused', data_age_ms: 8_000 }));
    }
    clock.advance(2_000);
    freshness.heard(beat({ data_age_ms: 300 }));
    clock.advance(2_000);
    freshness.heard(beat({ data_age_ms: 200 }));
    expect(reported.map((s) => [s.state, s.reason, s.data_age_ms])).toEqual([
      ['live', null, 0],
      ['stale', 'matomo_unreachable', 2_000],
      ['stale', 'auth_refused', 8_000],
      ['live', null, 300],
    ]);
  });

  it('never reports a new data_age_ms by itself, and gives the age as of now when asked', () => {
    const clock = new ManualClock(0);
    const { freshness, reported } = tracker(clock);
    for (const age of [500, 4_000, 100, 9_000, 2_000]) {
      freshness.heard(beat({ data_age_ms: age }));
      clock.advance(1_000);
    }
    expect(reported).toHaveLength(1);
    // 1 s after the last heartbeat (age 2000): 3000 now.
    expect(freshness.current()).toEqual({
      type: 'status',
      site: 1,
      state: 'live',
      reason: null,
      data_age_ms: 3_000,
      stale_after_ms: 15_000,
    });
    expect(reported).toHaveLength(1);
  });

  it('turns stale (data_old) when a heartbeat reports data older than the threshold, not by itself between heartbeats', () => {
    const clock = new ManualClock(0);
    const { freshness, reported } = tracker(clock);
    // A poller with FETCH_INTERVAL 10 s: threshold 30 s, data read 25 s ago.
    freshness.heard(beat({ fetch_interval_ms: 10_000, data_age_ms: 25_000 }));
    expect(reported.map((s) => [s.state, s.reason, s.stale_after_ms])).toEqual([['live', null, 30_000]]);
    clock.advance(10_000);
    expect(reported).toHaveLength(1);
    freshness.heard(beat({ fetch_interval_ms: 10_000, data_age_ms: 30_000 }));
    expect(reported[1]).toMatchObject({ state: 'stale', reason: 'data_old', data_age_ms: 30_000, stale_after_ms: 30_000 });
    // A poller that has never read the site's visits (data_age_ms null) is not live either.
    freshness.heard(beat({ data_age_ms: null }));
    expect(reported).toHaveLength(2);
    expect(freshness.current()).toMatchObject({ state: 'stale', reason: 'data_old', data_age_ms: null });
  });

  it('says poller_silent, and only that, when a poller with aged data falls silent', () => {
    const clock = new ManualClock(0);
    const { freshness, reported } = tracker(clock);
    freshness.heard(beat({ data_age_ms: 1_500 }));
    clock.advance(14_999);
    expect(reported.map((s) => [s.reason, s.data_age_ms])).toEqual([[null, 1_500]]);
    clock.advance(1);
    expect(reported.map((s) => [s.reason, s.data_age_ms])).toEqual([
      [null, 1_500],
      ['poller_silent', 16_500],
    ]);
  });

  it('counts a heartbeat read from the store as heard when it was stored, not now (a restarted gateway, a dead poller)', () => {
    const clock = new ManualClock(100_000);
    const { freshness, reported } = tracker(clock);
    // Stored with a 15 s TTL, 11 s left: the poller stored it 4 s ago.
    freshness.heard(beat({ data_age_ms: 1_000 }), 11_000);
    expect(reported.map((s) => [s.state, s.data_age_ms])).toEqual([['live', 5_000]]);
    clock.advance(10_999);
    expect(reported).toHaveLength(1);
    clock.advance(1);
    expect(reported[1]).toMatchObject({ state: 'stale', reason: 'poller_silent', data_age_ms: 16_000 });
    // A live heartbeat (no TTL given) is heard now.
    freshness.heard(beat({ data_age_ms: 1_000 }));
    expect(reported[2]).toMatchObject({ state: 'live', data_age_ms: 1_000 });
  });

  it('keeps one timer however many heartbeats come, and none after close()', () => {
    const clock = new ManualClock(0);
    const { freshness, reported } = tracker(clock);
    for (let i = 0; i < 20; i++) {
      freshness.heard(beat());
      clock.advance(500);
      expect(clock.timers.size).toBe(1);
    }
    freshness.close();
    expect(clock.timers.size).toBe(0);
    freshness.heard(beat({ trouble: 'matomo_error' }));
    clock.advance(60_000);
    expect(reported).toHaveLength(1);
  });

  it('ignores a heartbeat that does not decode (or is another site’s), logging it at most once a minute', () => {
    const clock = new ManualClock(0);
    const log = capturedLogger('debug');
    const { freshness, reported } = tracker(clock, log.logger);
    freshness.heard(beat());
    const bad = [
      Buffer.from('not json'),
      Buffer.from('{"site":1,"fetch_interval_ms":2000,"data_age_ms":1,"trouble":"poller_silent"}'),
      beat({ site: 2, trouble: 'auth_refused' }),
      Buffer.from('[]'),
    ];
    expect(() => bad.forEach((b) => freshness.heard(b))).not.toThrow();
    expect(reported).toHaveLength(1);
    const warnings = () => log.lines().filter((l) => l.msg === 'ignoring malformed heartbeats (logged at most once a minute per site)');
    expect(warnings()).toEqual([expect.objectContaining({ level: 40, site: 1, error: 'not JSON', ignored: 1 })]);
    // Ignored, not heard: the silence since the last good heartbeat still counts.
    clock.advance(15_000);
    expect(reported.map((s) => s.reason)).toEqual([null, 'poller_silent']);
    clock.advance(45_000);
    freshness.heard(Buffer.from('{}'));
    expect(warnings()).toHaveLength(2);
    expect(warnings()[1]).toMatchObject({ error: 'site is not a site id', ignored: 4 });
  });
});
