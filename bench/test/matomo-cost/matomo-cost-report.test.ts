import type { CostRow, MatomoCostResult } from '../../src/matomo-cost/matomo-cost';
import { matomoCostSection } from '../../src/matomo-cost/matomo-cost-report';

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
    const text = matomoCostSection(cost);
    expect(text).toContain("## Load on the user's Matomo");
    expect(text).toContain('| matomo-live poller | 60 | 0 | 2.20 | 0.55 | 2,100 | 21,000 | 0 |');
    // (2.2 − 0.2) ÷ (8.2 − 0.2) = 0.25; SQL 2100 ÷ 10500 = 0.20.
    expect(text).toContain('PHP CPU **0.25×**, SQL statements **0.20×**');
    expect(text).toContain('+0.10 s PHP');
    expect(text).toContain('+100 SQL statements');
  });

  it('says why when it was not measured', () => {
    expect(matomoCostSection({ ...cost, rows: [], skipped: 'no real Matomo: needs root' })).toContain(
      'Not measured: no real Matomo: needs root.',
    );
    expect(matomoCostSection(undefined)).toContain('Not measured in this run.');
  });
});
