import { SiteStatuses, type StatusMessage } from '@matomo-live/client';

const stale = (site: number, dataAgeMs: number | null): StatusMessage => ({
  type: 'status',
  site,
  state: 'stale',
  reason: 'matomo_unreachable',
  data_age_ms: dataAgeMs,
  stale_after_ms: 15_000,
});
const live = (site: number, dataAgeMs: number): StatusMessage => ({
  type: 'status',
  site,
  state: 'live',
  reason: null,
  data_age_ms: dataAgeMs,
  stale_after_ms: 15_000,
});

describe('SiteStatuses', () => {
  let now = 1_000;
  const statuses = () => new SiteStatuses(() => now);
  beforeEach(() => {
    now = 1_000;
  });

  it('has nothing before the first message', () => {
    const kept = statuses();
    expect(kept.get()).toBeUndefined();
    expect(kept.get(1)).toBeUndefined();
  });

  it("advances a stale site's data age by the local time since the message arrived", () => {
    const kept = statuses();
    kept.keep(stale(1, 20_000));
    expect(kept.get(1)?.data_age_ms).toBe(20_000);
    now += 40_000;
    expect(kept.get(1)).toEqual({ ...stale(1, 60_000) });
    // Reading does not move the base: the age is always from the arrival.
    now += 1_000;
    expect(kept.get(1)?.data_age_ms).toBe(61_000);
  });

  it('keeps a null age (no data yet) null, and a live age as it arrived', () => {
    const kept = statuses();
    kept.keep(stale(1, null));
    now += 30_000;
    expect(kept.get(1)?.data_age_ms).toBeNull();
    kept.keep(live(1, 800));
    now += 60_000;
    expect(kept.get(1)).toEqual(live(1, 800));
  });

  it('keeps the latest per site; without a site, the one received last', () => {
    const kept = statuses();
    kept.keep(stale(1, 5_000));
    kept.keep(live(2, 100));
    expect(kept.get()).toEqual(live(2, 100));
    expect(kept.get(1)?.state).toBe('stale');
    expect(kept.get(3)).toBeUndefined();
    now += 2_000;
    kept.keep(live(1, 0));
    expect(kept.get(1)).toEqual(live(1, 0));
    expect(kept.get()?.site).toBe(1);
  });

  it('never moves an age backwards when the clock does', () => {
    const kept = statuses();
    kept.keep(stale(1, 20_000));
    now -= 5_000;
    expect(kept.get(1)?.data_age_ms).toBe(20_000);
  });

  it('hands out copies: a reader cannot change what is kept', () => {
    const kept = statuses();
    kept.keep(live(1, 100));
    const read = kept.get(1) as StatusMessage;
    read.state = 'stale';
    expect(kept.get(1)?.state).toBe('live');
  });
});
