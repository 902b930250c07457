import { e2eSection } from '../../src/e2e/e2e-report';

describe('the end-to-end section', () => {
  const settings = { 'e2e poll interval': '500 ms' };

  it('prints the delivery and the two latencies', () => {
    const text = e2eSection(
      {
        gateways: 3,
        clients: 500,
        connected: 500,
        publishes: 15,
        expected: 7500,
        delivered: 7500,
        p50Ms: 3.21,
        p99Ms: 9.5,
        maxMs: 12.34,
        pickupP50Ms: 251,
        pickupMaxMs: 498,
      },
      settings,
    );
    expect(text).toContain('poller (FETCH_INTERVAL=500 ms) → Redis → 3 gateway processes');
    expect(text).toContain('| 500 | 3 | 15 | 7,500 / 7,500 | 3.21 | 9.50 | 12.3 | 251 | 498 |');
  });

  it('says when it failed or did not run', () => {
    const failed = {
      gateways: 3,
      clients: 0,
      connected: 0,
      publishes: 0,
      expected: 0,
      delivered: 0,
      p50Ms: 0,
      p99Ms: 0,
      maxMs: 0,
      pickupP50Ms: 0,
      pickupMaxMs: 0,
    };
    expect(e2eSection({ ...failed, error: 'nginx missing' }, settings)).toContain('Failed: nginx missing');
    expect(e2eSection(undefined, settings)).toContain('(not run)');
  });
});
