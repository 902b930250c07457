import { redisHaSection, renderMarkdown, sectionOf, type BenchRun } from '../src/report';

const run = (parts: BenchRun['parts'], command: string): BenchRun => ({
  startedAt: '2026-11-29T12:00:00.000Z',
  minutes: 1.5,
  command,
  quick: false,
  machine: {
    cpu: 'Test CPU',
    cores: 2,
    memoryGiB: 24,
    kernel: '6.0',
    node: 'v20',
    fdLimit: '20000',
    loadAverageAtStart: '0.50 0.40 0.30',
    versions: {},
  },
  settings: {},
  parts,
  fanout: [],
  poller: [],
  e2e: undefined,
  ha: {
    failover: [
      {
        mode: 'sentinel',
        topology: '1 master',
        gateways: 2,
        clients: 10,
        rounds: [
          { promotedMs: 1400, allClientsMs: 2400, afterPromotionMs: 1000, clients: 10, disconnected: 0 },
          { promotedMs: 1500, allClientsMs: 2600, afterPromotionMs: 1100, clients: 10, disconnected: 0 },
          { promotedMs: 1300, allClientsMs: 2500, afterPromotionMs: 1200, clients: 10, disconnected: 0 },
        ],
      },
    ],
    publishCost: [
      {
        publish: 'SPUBLISH',
        changes: 10,
        subscribers: 3,
        payloadBytes: 2048,
        commandsPerChange: 9,
        clientBytesPerChange: 13000,
        busMessagesPerChange: 1,
        busBytesPerChange: 2000,
        nodesServingSubscribers: 1,
      },
    ],
  },
  notes: [],
});

describe('docs/BENCHMARKS.md sections', () => {
  it('a run of one part rewrites its section and keeps the others exactly as they were', () => {
    const full = renderMarkdown(run(['fanout', 'poller', 'e2e', 'ha'], 'npm run bench'), 'analysis');
    const edited = full.replace(sectionOf(full, 'poller')!, '<!-- bench:poller -->\nHAND-KEPT POLLER NUMBERS\n<!-- /bench:poller -->');
    const partial = renderMarkdown(run(['ha'], 'npm run bench -- --only=ha'), 'analysis', edited);
    expect(sectionOf(partial, 'poller')).toBe('<!-- bench:poller -->\nHAND-KEPT POLLER NUMBERS\n<!-- /bench:poller -->');
    expect(sectionOf(partial, 'fanout')).toBe(sectionOf(full, 'fanout'));
    expect(sectionOf(partial, 'machine')).toBe(sectionOf(full, 'machine'));
    expect(sectionOf(partial, 'redis-ha')).toMatch(/^<!-- bench:redis-ha -->\n_Measured by `npm run bench -- --only=ha` on 2026-11-29/);
  });

  it('a section missing from the previous file is rendered fresh, saying it was not measured', () => {
    const partial = renderMarkdown({ ...run(['fanout'], 'npm run bench -- --only=fanout'), ha: undefined }, 'analysis', '');
    expect(sectionOf(partial, 'redis-ha')).toContain('(not run: `npm run bench -- --only=ha`)');
  });

  it('shows failover timings as median (min–max) seconds, and the cost per change', () => {
    const text = redisHaSection(run(['ha'], 'x').ha);
    expect(text).toContain('| sentinel | 1 master | 3 | 1.4 s (1.3–1.5) | 2.5 s (2.4–2.6) | 1.1 s (1.0–1.2) | 0 of 30 |');
    expect(text).toContain('| SPUBLISH | 9.0 | 13,000 | 1.0 | 2,000 | 1 |');
  });
});
