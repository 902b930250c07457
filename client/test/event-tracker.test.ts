import { checkEventOptions, EventTracker } from '@matomo-live/client';

const visit = (id: string) => ({ type: 'visit' as const, site: 1, id, visit: {} as never });
const reset = (id: string) => ({ type: 'events_reset' as const, site: 1, id, reason: 'since-unknown' as const });

describe('EventTracker', () => {
  it('passes each event once, in order, and remembers the last id', () => {
    const tracker = new EventTracker();
    expect(tracker.lastId).toBeUndefined();
    expect(['5-0', '5-1', '5-1', '4-9', '10-0'].map((id) => tracker.accept(visit(id)))).toEqual([true, true, false, false, true]);
    expect(tracker.lastId).toBe('10-0');
  });

  it('starts after a saved id, and a reset always passes and moves the place (even backwards)', () => {
    const tracker = new EventTracker('100-0');
    expect(tracker.accept(visit('99-0'))).toBe(false);
    expect(tracker.accept(reset('50-0'))).toBe(true);
    expect(tracker.lastId).toBe('50-0');
    expect(tracker.accept(visit('51-0'))).toBe(true);
  });
});

describe('checkEventOptions', () => {
  it('refuses what a gateway would close with 1008, at once', () => {
    expect(() => checkEventOptions({ events: 'pageviews' })).toThrow("events must be 'visits'");
    expect(() => checkEventOptions({ events: 'visits', since: 'yesterday' })).toThrow('since is not a stream id');
    expect(() => checkEventOptions({ events: 'visits', rewind: 0 })).toThrow('rewind must be a whole number from 1 to 10000');
    expect(() => checkEventOptions({ events: 'visits', since: '1-0', rewind: 5 })).not.toThrow();
    expect(() => checkEventOptions({})).not.toThrow();
  });
});
