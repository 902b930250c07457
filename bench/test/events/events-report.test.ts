import { eventsSection } from '../../src/events/events-report';
import type { EventsRunResult } from '../../src/events/events-bench';

const run = (over: Partial<EventsRunResult> = {}): EventsRunResult => ({
  clients: 1000,
  connected: 1000,
  rate: 200,
  published: 2000,
  expected: 2_000_000,
  delivered: 2_000_000,
  duplicates: 0,
  perClientMin: 2000,
  deliveredPerSecond: 200_000,
  p50Ms: 4.25,
  p99Ms: 20,
  gatewayCpuPercent: 55,
  gatewayCpuPer1kEventsMs: 2.75,
  closes: {},
  ...over,
});

describe('the visit events section', () => {
  it('prints each run and the bytes per visit against snapshots', () => {
    const text = eventsSection({
      runs: [run(), run({ clients: 100, error: 'x | y' })],
      bytes: { eventFrameBytes: 400, snapshotFrameBytes: 4000, liveLimit: 5 },
    });
    expect(text).toContain('| 1,000 | 200 | 2,000,000 / 2,000,000 | 2,000 / 2,000 | 0 | **200,000** | 4.3 | 20.0 | 55 % / 2.8 ms |');
    expect(text).toContain('| 100 | failed: x / y |');
    expect(text).toContain('| snapshots, one per visit (at most 5 visits per tick, the rest are lost) | 4,000 | 10.0× |');
    // 1 − 400/4000 of the bytes saved.
    expect(text).toContain('events save 90 % of the bytes');
  });

  it('says when it was not measured', () => {
    expect(eventsSection(undefined)).toContain('Not measured in this run.');
    expect(eventsSection({ runs: [run()], bytes: undefined })).toContain('Bytes per visit: not measured.');
  });
});
