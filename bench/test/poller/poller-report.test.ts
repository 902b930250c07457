import { pollerSection } from '../../src/poller/poller-report';

describe('the poller section', () => {
  it('prints per-tick numbers for each poller, and a failed one with its error', () => {
    const text = pollerSection(
      [
        {
          poller: 'matomo-live poller',
          ticks: 62,
          requestsPerTick: 1,
          apiCallsPerTick: 7,
          requestBytesPerTick: 1234,
          responseBytesPerTick: 56789,
          cpuMsPerTick: 2.345,
          rssBytes: 64 * 2 ** 20,
        },
        {
          poller: 'reference loop',
          ticks: 0,
          requestsPerTick: 0,
          apiCallsPerTick: 0,
          requestBytesPerTick: 0,
          responseBytesPerTick: 0,
          cpuMsPerTick: 0,
          rssBytes: 0,
          error: 'a | b',
        },
      ],
      { 'poller interval': '1000 ms', 'poller visit every': '2000 ms' },
    );
    expect(text).toContain('a synthetic visit every 2000 ms) at the same time with FETCH_INTERVAL=1000 ms');
    expect(text).toContain('| matomo-live poller | 62 | 1.00 | 7.00 | 1,234 | 56,789 | 2.35 | 64.0 |');
    expect(text).toContain('| reference loop | failed: a / b |');
  });
});
