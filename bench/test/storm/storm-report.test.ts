import { stormRatios, stormSection } from '../../src/storm/storm-report';
import type { StormResult, StormStep } from '../../src/storm/storm-bench';

function step(name: string, affected: number, p99Ms: number, failedAttempts: number, extra: Partial<StormStep> = {}): StormStep {
  const ttl = { p50Ms: p99Ms / 2, p99Ms, maxMs: p99Ms + 1 };
  return {
    name,
    affected,
    backLive: affected,
    timeToLive: ttl,
    outage: ttl,
    failedAttempts,
    closes1013: 0,
    badCloses: 0,
    closes: {},
    duplicates: 0,
    wireRepeats: 0,
    change: { clients: 600, reachedWithin5s: 600, reached: 600, lastAfterMs: 100 },
    split: [200, 200, 200],
    ...extra,
  };
}

const gateway: StormResult = {
  server: 'gateway',
  clients: 600,
  connected: 600,
  drainWindowMs: 5000,
  steps: [
    step('scale-out 2→3', 190, 9000, 0, { newShare: 0.31, timeTo25PercentMs: 11_000 }),
    step('SIGKILL one', 200, 2000, 0),
    step('SIGTERM 1/3 (rolling restart)', 200, 5000, 0),
    step('SIGTERM 2/3 (rolling restart)', 200, 5500, 0),
  ],
};
const socketio: StormResult = {
  server: 'socketio',
  clients: 600,
  connected: 600,
  drainWindowMs: 5000,
  steps: [
    step('scale-out 2→3', 0, NaN, 0, { newShare: 0 }),
    step('SIGKILL one', 300, 8000, 70),
    step('SIGTERM 1/3 (rolling restart)', 0, NaN, 0),
    step('SIGTERM 2/3 (rolling restart)', 400, 22_000, 110),
  ],
};

describe('the storm section', () => {
  it('compares the same steps of both servers, skipping steps nobody was affected by', () => {
    expect(stormRatios([gateway, socketio])).toBe(
      "**Same run, matomo-live vs Socket.IO** (Socket.IO ÷ matomo-live in brackets): new backend's share after scale-out 31 % vs 0 %; " +
        'SIGKILL time-to-live p99 2,000 ms vs 8,000 ms (4.0×); rolling restart (worst SIGTERM) time-to-live p99 5,500 ms vs 22,000 ms (4.0×); ' +
        'failed attempts in all steps 0 vs 180.',
    );
  });

  it('has no comparison when only one server ran, and a row per step', () => {
    expect(stormRatios([gateway])).toBeUndefined();
    const section = stormSection([gateway]);
    expect(section).not.toContain('Same run');
    expect(section.split('\n').filter((l) => l.startsWith('| matomo-live gateway'))).toHaveLength(4);
    expect(stormSection([gateway, socketio])).toContain('(4.0×)');
  });
});

it('renders a run read back from latest.json, where NaN became null (--render)', () => {
  const reread = JSON.parse(JSON.stringify([gateway, socketio])) as StormResult[];
  expect(stormSection(reread)).toContain('| Socket.IO 4 + redis adapter + socket.io-client | scale-out 2→3 | 0 | — | — | — |');
});
