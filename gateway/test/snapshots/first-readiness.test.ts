import { systemClock } from '@matomo-live/protocol';
import { capturedLogger } from '@matomo-live/test-support/logger';
import { FirstReadiness } from '../../src/snapshots/first-readiness';
import type { SnapshotHub } from '../../src/snapshots/snapshot-hub';

function setup() {
  let now = 0;
  const intervals: Array<() => void> = [];
  const clock = {
    ...systemClock,
    now: () => now,
    setInterval: (fn: () => void) => intervals.push(fn),
    clearInterval: () => intervals.splice(0),
  };
  const state = { ready: false, snapshot: null as unknown };
  const feed = { subscribe: async () => null, watchHeartbeat: async () => null, isReady: () => state.ready, close: async () => undefined };
  const hub = { snapshot: () => state.snapshot } as unknown as SnapshotHub;
  const log = capturedLogger('info');
  const readiness = new FirstReadiness({ feed, hub, siteIds: [1], clock, logger: log.logger, alertAfterMs: 10_000 });
  const advance = (ms: number) => {
    now += ms;
    for (const fn of [...intervals]) fn();
  };
  return { readiness, state, log, advance, intervals };
}

describe('FirstReadiness', () => {
  it('is reached once the feed was ready, and stays so when Redis goes away later', () => {
    const { readiness, state } = setup();
    expect(readiness.reached).toBe(false);
    state.ready = true;
    expect(readiness.reached).toBe(true);
    state.ready = false;
    expect(readiness.reached).toBe(true);
  });

  it('is reached with a snapshot to serve, even while the feed is not ready', () => {
    const { readiness, state } = setup();
    state.snapshot = { seq: 1 };
    expect(readiness.reached).toBe(true);
  });

  it('says at error level, once, that no feed came within 10 s, then at info when it comes, and stops watching', () => {
    const { readiness, state, log, advance, intervals } = setup();
    readiness.watch();
    advance(9000);
    expect(log.lines()).toEqual([]);
    advance(1000);
    advance(1000);
    expect(log.lines().map((l) => [l.level, l.waitedMs])).toEqual([[50, 10_000]]);
    state.ready = true;
    advance(1000);
    expect(log.lines().map((l) => l.msg)).toEqual([
      expect.stringMatching(/^no snapshot feed yet/),
      'snapshot feed ready: accepting WebSocket clients',
    ]);
    expect(intervals).toHaveLength(0);
  });

  it('says nothing when the feed is there in time', () => {
    const { readiness, state, log, advance } = setup();
    readiness.watch();
    state.ready = true;
    advance(1000);
    advance(20_000);
    expect(log.lines()).toEqual([]);
  });
});
