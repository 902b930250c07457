import type { CostRow, MatomoCostResult } from '../src/matomo-cost/matomo-cost';
import { matomoCostSection, redisHaSection, renderMarkdown, sectionOf, type BenchRun } from '../src/report';

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

const row = (scenario: CostRow['scenario'], php: number, sql: number): CostRow => ({
  site: 'seeded site',
  scenario,
  rounds: 2,
  requestsPerMin: scenario === 'reference loop' ? 420 : scenario === 'idle' ? 0 : 60,
  apiCallsPerMin: 0,
  phpCpuSPerMin: php,
  dbCpuSPerMin: php / 4,
  sqlPerMin: sql,
  writesPerMin: 0,
  rowsReadPerMin: sql * 10,
});

const cost: MatomoCostResult = {
  matomoVersion: '5.2.0-b5',
  intervalMs: 1000,
  windowS: 60,
  siteNotes: { 'seeded site': 'site 1 (Asia/Tokyo), 12 visits in its raw log' },
  rows: [
    row('idle', 0.2, 0),
    row('matomo-live poller', 2.2, 2100),
    row('poller, TODAY_INTERVAL=0', 2.1, 2000),
    row('reference loop', 8.2, 10500),
  ],
};

describe('the Matomo-cost section', () => {
  it('prints the table and the ratios against the reference loop, idle subtracted, and the cost of live today', () => {
    const text = matomoCostSection({ ...run(['matomo-cost'], 'npm run bench -- --only=matomo-cost'), matomoCost: cost });
    expect(text).toContain("## Load on the user's Matomo");
    expect(text).toContain('| matomo-live poller | 60 | 0 | 2.20 | 0.55 | 2,100 | 21,000 | 0 |');
    // (2.2 − 0.2) ÷ (8.2 − 0.2) = 0.25; SQL 2100 ÷ 10500 = 0.20.
    expect(text).toContain('PHP CPU **0.25×**, SQL statements **0.20×**');
    expect(text).toContain('+0.10 s PHP');
    expect(text).toContain('+100 SQL statements');
  });

  it('says why when it was not measured, and a run of it keeps every other section', () => {
    const skipped = { ...run(['matomo-cost'], 'x'), matomoCost: { ...cost, rows: [], skipped: 'no real Matomo: needs root' } };
    expect(matomoCostSection(skipped)).toContain('Not measured: no real Matomo: needs root.');
    const full = renderMarkdown(run(['fanout', 'poller', 'e2e', 'ha'], 'npm run bench'), 'analysis');
    const partial = renderMarkdown({ ...run(['matomo-cost'], 'npm run bench -- --only=matomo-cost'), matomoCost: cost }, 'analysis', full);
    expect(sectionOf(partial, 'redis-ha')).toBe(sectionOf(full, 'redis-ha'));
    expect(sectionOf(partial, 'matomo-cost')).toMatch(/^<!-- bench:matomo-cost -->\n_Measured by `npm run bench -- --only=matomo-cost`/);
    expect(partial.indexOf('<!-- bench:matomo-cost -->')).toBeLessThan(partial.indexOf('<!-- bench:e2e -->'));
  });
});
