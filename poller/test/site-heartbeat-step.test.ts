import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeHeartbeat, encodeHeartbeat, type PollerTrouble } from '@matomo-live/shared';
import { errorMessage } from '../src/matomo-client';
import type { TickFailureKind } from '../src/poller-status';
import { isLiveDisabled, liveReadAt, siteHeartbeat, troubleOf } from '../src/site-heartbeat-step';
import { createSiteState, forgetLeadState, noteAttempt, type SiteState } from '../src/site-state';

const NOW = Date.UTC(2024, 6, 4, 16, 0, 0);
const ctx = { now: NOW, fetchIntervalMs: 5000, authBlocked: false };

const fixture = (name: string): unknown => JSON.parse(readFileSync(join(__dirname, 'fixtures', 'real-matomo', name), 'utf8'));

/** What a real Matomo 5 answers for a plugin that is not activated: inside a bulk request (plugin "No"), and alone (plugin "Foo"). */
const recordedPluginOff = (): string => errorMessage((fixture('bulk-mixed-errors.json') as unknown[])[3])!;
const recordedPluginOffAlone = (): string => errorMessage(fixture('api-unknown-method.json'))!;

/** A led site whose latest attempt ended at `at`, with `failure`. */
function led(failure?: { kind: TickFailureKind; message: string }, at = NOW - 100): SiteState {
  const s = createSiteState(5, true);
  s.leaderUntil = NOW + 1000;
  noteAttempt(s, at, failure);
  return s;
}

describe('troubleOf', () => {
  const cases: Array<[TickFailureKind, string, PollerTrouble]> = [
    ['auth', 'token refused (HTTP 401): Unable to authenticate', 'auth_refused'],
    ['auth-blocked', 'HTTP 500: Matomo blocks this IP (too many failed logins)', 'auth_refused'],
    ['network', 'ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:1', 'matomo_unreachable'],
    ['timeout', 'no answer in time', 'matomo_unreachable'],
    ['http', 'HTTP 503', 'matomo_unreachable'],
    ['api-error', 'Live.getLastVisitsDetails (site 1): Mysql error: Lock wait timeout exceeded', 'matomo_error'],
    ['api-error', 'Live.getLastVisitsDetails (site 1): The plugin Live is not enabled. You can activate…', 'live_disabled'],
    ['not-json', 'not JSON (text/html, starts "<!DOCTYPE html>")', 'matomo_error'],
    ['invalid-json', 'invalid JSON', 'matomo_error'],
    ['shape', 'expected an array of 4 answers, got object', 'matomo_error'],
    ['internal', 'publisher bug', 'matomo_error'],
    ['publish', "publish: READONLY You can't write against a read only replica", 'publish_failing'],
  ];

  it.each(cases)('%s (%s) → %s', (kind, message, trouble) => {
    expect(troubleOf({ kind, message }, false)).toBe(trouble);
  });

  it('is null when the latest attempt was published', () => {
    expect(troubleOf(undefined, false)).toBeNull();
  });

  it('is auth_refused while auth is blocked, whatever the latest attempt said', () => {
    expect(troubleOf(undefined, true)).toBe('auth_refused');
    expect(troubleOf({ kind: 'network', message: 'ECONNRESET' }, true)).toBe('auth_refused');
  });
});

describe('isLiveDisabled', () => {
  it("knows Matomo 5's words, in a bulk answer (>) and a plain one (&gt;)", () => {
    const recorded = recordedPluginOff();
    expect(recorded).toMatch(/^The plugin No is not enabled/);
    expect(isLiveDisabled(recorded.replace('plugin No', 'plugin Live'))).toBe(true);
    const alone = recordedPluginOffAlone();
    expect(alone).toMatch(/^The plugin Foo is not enabled.*&gt;/);
    expect(isLiveDisabled(`Matomo error: ${alone.replace('plugin Foo', 'plugin Live')}`)).toBe(true);
  });

  it('not for another plugin, nor for other errors of the Live API', () => {
    expect(isLiveDisabled(recordedPluginOff())).toBe(false);
    expect(isLiveDisabled(recordedPluginOffAlone())).toBe(false);
    expect(isLiveDisabled('The plugin LiveTab is not enabled.')).toBe(false);
    expect(isLiveDisabled("Live.getCounters (site 1): Please specify a value for 'lastMinutes'.")).toBe(false);
  });
});

describe('liveReadAt', () => {
  it('is undefined before the first read', () => {
    expect(liveReadAt(createSiteState(5, false))).toBeUndefined();
  });

  it('is the full read, or the incremental fetch once it keeps a full read current, whichever is later', () => {
    const s = createSiteState(5, false);
    s.visits.succeed(true, 1000);
    s.cursor.succeed(true, 5000);
    // Not seeded: the cursor alone does not make the latest visits current.
    expect(liveReadAt(s)).toBe(1000);
    s.latest.seed([]);
    expect(liveReadAt(s)).toBe(5000);
    s.visits.succeed(true, 6000);
    expect(liveReadAt(s)).toBe(6000);
  });

  it('a failing full read keeps its last time; the cursor moves it on', () => {
    const s = createSiteState(5, false);
    s.visits.succeed(true, 1000);
    s.latest.seed([]);
    s.visits.fail('HTTP 502', 'http', 2000);
    expect(liveReadAt(s)).toBe(1000);
    s.cursor.succeed(true, 3000);
    expect(liveReadAt(s)).toBe(3000);
  });
});

describe('siteHeartbeat', () => {
  it('a led site published: no trouble, the age of its live visits, FETCH_INTERVAL; it encodes as a valid heartbeat', () => {
    const s = led();
    s.visits.succeed(true, NOW - 1200);
    const heartbeat = siteHeartbeat(3, s, ctx)!;
    expect(heartbeat).toEqual({ site: 3, fetch_interval_ms: 5000, data_age_ms: 1200, trouble: null });
    expect(decodeHeartbeat(encodeHeartbeat(heartbeat))).toEqual({ heartbeat });
  });

  it('data_age_ms is null before the first read, and never negative', () => {
    const s = led({ kind: 'network', message: 'ECONNREFUSED' });
    expect(siteHeartbeat(1, s, ctx)).toMatchObject({ data_age_ms: null, trouble: 'matomo_unreachable' });
    s.visits.succeed(true, NOW + 50);
    expect(siteHeartbeat(1, s, ctx)!.data_age_ms).toBe(0);
  });

  it('a standby sends nothing', () => {
    const s = led();
    s.leaderUntil = NOW;
    expect(siteHeartbeat(1, s, ctx)).toBeUndefined();
    expect(siteHeartbeat(1, s, { ...ctx, authBlocked: true })).toBeUndefined();
  });

  it('nothing before the first attempt since leadership came, except while auth is blocked', () => {
    const s = led();
    s.visits.succeed(true, NOW - 60_000);
    forgetLeadState(s);
    expect(siteHeartbeat(1, s, ctx)).toBeUndefined();
    // The read of the earlier stint as leader is not the data's age (another poller kept it fresh).
    expect(siteHeartbeat(1, s, { ...ctx, authBlocked: true })).toMatchObject({ trouble: 'auth_refused', data_age_ms: null });
    // The first attempt as leader reads the visits again (a full read) and publishes.
    s.visits.succeed(true, NOW - 2_000);
    noteAttempt(s, NOW, undefined);
    expect(siteHeartbeat(1, s, ctx)).toMatchObject({ trouble: null, data_age_ms: 2_000 });
  });

  it('a failing part other than the live visits is no trouble while the site is published', () => {
    const s = led();
    s.visits.succeed(true, NOW - 100);
    s.summary.fail('Lock wait timeout', 'api-error', NOW - 100);
    s.counters.fail('HTTP 502', 'http', NOW - 100);
    expect(siteHeartbeat(1, s, ctx)).toMatchObject({ trouble: null });
  });

  it('the live visits failing: the site is not published, and its failure is the trouble', () => {
    const message = 'Live.getLastVisitsDetails (site 1): The plugin Live is not enabled.';
    const s = led({ kind: 'api-error', message });
    s.visits.succeed(true, NOW - 30_000);
    s.visits.fail(message, 'api-error', NOW - 100);
    expect(siteHeartbeat(1, s, ctx)).toEqual({ site: 1, fetch_interval_ms: 5000, data_age_ms: 30_000, trouble: 'live_disabled' });
  });

  it('copies the failure: the heartbeat holds no error object', () => {
    const failure = Object.assign(new Error('HTTP 503'), { kind: 'http' as const });
    const s = led(failure);
    expect(s.lastAttempt).toEqual({ at: NOW - 100, failure: { kind: 'http', message: 'HTTP 503' } });
  });
});
