import type { MatomoCostResult } from '../src/matomo-cost/matomo-cost';
import { renderMarkdown, sectionOf, type BenchRun } from '../src/report';
import { haResults } from './ha/ha-rows';

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
  ha: haResults,
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

  it('a run of matomo-cost keeps every other section, and puts its own before e2e', () => {
    const full = renderMarkdown(run(['fanout', 'poller', 'e2e', 'ha'], 'npm run bench'), 'analysis');
    const matomoCost: MatomoCostResult = { matomoVersion: '5', intervalMs: 1000, windowS: 60, siteNotes: {}, rows: [] };
    const partial = renderMarkdown({ ...run(['matomo-cost'], 'npm run bench -- --only=matomo-cost'), matomoCost }, 'analysis', full);
    expect(sectionOf(partial, 'redis-ha')).toBe(sectionOf(full, 'redis-ha'));
    expect(sectionOf(partial, 'matomo-cost')).toMatch(/^<!-- bench:matomo-cost -->\n_Measured by `npm run bench -- --only=matomo-cost`/);
    expect(partial.indexOf('<!-- bench:matomo-cost -->')).toBeLessThan(partial.indexOf('<!-- bench:e2e -->'));
  });
});
