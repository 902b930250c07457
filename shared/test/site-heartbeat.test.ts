import {
  decodeHeartbeat,
  encodeHeartbeat,
  heartbeatTtlMs,
  judgeFreshness,
  storedHeartbeatAgeMs,
  type SiteHeartbeat,
} from '../src/site-heartbeat';

const fine: SiteHeartbeat = { site: 3, fetch_interval_ms: 5_000, data_age_ms: 2_000, trouble: null };

describe('heartbeat bytes', () => {
  it('round-trip, and carry only the known fields', () => {
    const bytes = encodeHeartbeat({ ...fine, extra: 'x' } as SiteHeartbeat);
    expect(JSON.parse(bytes.toString())).toEqual(fine);
    expect(decodeHeartbeat(bytes)).toEqual({ heartbeat: fine });
    expect(decodeHeartbeat(encodeHeartbeat({ ...fine, data_age_ms: null, trouble: 'auth_refused' }))).toEqual({
      heartbeat: { ...fine, data_age_ms: null, trouble: 'auth_refused' },
    });
  });

  it('name what is wrong with bad bytes, never throw', () => {
    const bad = (value: unknown) => decodeHeartbeat(typeof value === 'string' ? value : JSON.stringify(value));
    expect(bad('{')).toEqual({ error: 'not JSON' });
    expect(bad([])).toEqual({ error: 'not an object' });
    expect(bad({ ...fine, site: 0 })).toEqual({ error: 'site is not a site id' });
    expect(bad({ ...fine, fetch_interval_ms: -5 })).toEqual({ error: 'fetch_interval_ms is not a positive number' });
    expect(bad({ ...fine, data_age_ms: 'old' })).toEqual({ error: 'data_age_ms is neither null nor a duration' });
    // The gateway's own verdicts are not the poller's to send.
    expect(bad({ ...fine, trouble: 'poller_silent' })).toEqual({ error: 'trouble is not a known reason' });
    expect(bad({ ...fine, trouble: 'data_old' })).toEqual({ error: 'trouble is not a known reason' });
  });
});

describe('judgeFreshness', () => {
  const since = 100_000;

  it('says nothing until the poller has been silent for the 15 s floor, then poller_silent', () => {
    const sighting = { heartbeat: undefined, heardAt: 0, since };
    expect(judgeFreshness(3, sighting, since + 14_999)).toEqual({ status: undefined, recheckAt: since + 15_000 });
    expect(judgeFreshness(3, sighting, since + 15_000).status).toEqual({
      site: 3,
      state: 'stale',
      reason: 'poller_silent',
      data_age_ms: null,
      stale_after_ms: 15_000,
    });
  });

  it('is live while heartbeats come and the reported data is young; only silence changes that between heartbeats', () => {
    const verdict = judgeFreshness(3, { heartbeat: fine, heardAt: since, since }, since + 1_000);
    expect(verdict.status).toEqual({ site: 3, state: 'live', reason: null, data_age_ms: 3_000, stale_after_ms: 15_000 });
    expect(verdict.recheckAt).toBe(since + 15_000);
    // The data is 16 s old by now, but the poller was heard 14 s ago: still its verdict until it is silent.
    expect(judgeFreshness(3, { heartbeat: fine, heardAt: since, since }, since + 14_000).status).toMatchObject({ state: 'live' });
  });

  it('turns stale with the reason: silence first, then the trouble the poller reports, then old data', () => {
    const heard = { heartbeat: fine, heardAt: since, since };
    expect(judgeFreshness(3, heard, since + 15_000).status).toMatchObject({ state: 'stale', reason: 'poller_silent', data_age_ms: 17_000 });
    const troubled = { ...heard, heartbeat: { ...fine, trouble: 'matomo_unreachable' as const } };
    expect(judgeFreshness(3, troubled, since).status).toMatchObject({ state: 'stale', reason: 'matomo_unreachable', data_age_ms: 2_000 });
    expect(judgeFreshness(3, { ...heard, heartbeat: { ...fine, data_age_ms: 14_999 } }, since).status).toMatchObject({ state: 'live' });
    const old = { ...heard, heartbeat: { ...fine, data_age_ms: 15_000 } };
    expect(judgeFreshness(3, old, since + 1_000).status).toMatchObject({ state: 'stale', reason: 'data_old', data_age_ms: 16_000 });
    expect(judgeFreshness(3, { ...heard, heartbeat: { ...fine, data_age_ms: null } }, since).status).toMatchObject({ reason: 'data_old' });
  });

  it('scales the threshold with a long FETCH_INTERVAL', () => {
    const slow = { heartbeat: { ...fine, fetch_interval_ms: 60_000 }, heardAt: since, since };
    expect(judgeFreshness(3, slow, since + 100_000).status).toMatchObject({ state: 'live', stale_after_ms: 180_000 });
    expect(judgeFreshness(3, slow, since + 180_000).status).toMatchObject({ state: 'stale', reason: 'poller_silent' });
  });
});

describe('the stored heartbeat', () => {
  it('lives for the stale threshold, and its age comes from the TTL it has left', () => {
    expect(heartbeatTtlMs(5_000)).toBe(15_000);
    expect(heartbeatTtlMs(60_000)).toBe(180_000);
    expect(storedHeartbeatAgeMs(fine, 11_000)).toBe(4_000);
    expect(storedHeartbeatAgeMs({ ...fine, fetch_interval_ms: 60_000 }, 30_000)).toBe(150_000);
    // A TTL longer than expected (clock rounding, an older poller's TTL) is no negative age.
    expect(storedHeartbeatAgeMs(fine, 16_000)).toBe(0);
  });
});
