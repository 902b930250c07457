// deploy/observability/prometheus-rules.yml: every alert links a runbook
// section of docs/OPERATIONS.md, reads metrics that exist, names no job or
// instance, and has promtool unit tests that see it fire and stay quiet;
// then `promtool check rules` and `promtool test rules` themselves (Debian's
// prometheus package, fetched by .ci/run into PROMTOOL; skipped loudly without).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { OBSERVABILITY_DIR, OPERATIONS_MD, docSection, hardCodedTargets, knownMetrics, unknownSeries } from './metric-catalog';
import { findPrometheusTool, missingToolWarning } from './prometheus-tools';

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface AlertTest {
  eval_time: string;
  alertname: string;
  exp_alerts?: unknown[];
}

const RULES = join(OBSERVABILITY_DIR, 'prometheus-rules.yml');
const RULE_TESTS = join(OBSERVABILITY_DIR, 'prometheus-rules.test.yml');
const rules = (parse(readFileSync(RULES, 'utf8')) as { groups: Array<{ rules: Rule[] }> }).groups.flatMap((g) => g.rules);
const alerts = rules.filter((r): r is Rule & { alert: string } => r.alert !== undefined);
const ruleTests = parse(readFileSync(RULE_TESTS, 'utf8')) as { rule_files: string[]; tests: Array<{ alert_rule_test?: AlertTest[] }> };
const alertTests = ruleTests.tests.flatMap((t) => t.alert_rule_test ?? []);

/** GitHub's anchor of a Markdown heading: lower case, punctuation dropped, spaces to dashes. */
const anchorOf = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');

describe('prometheus-rules.yml', () => {
  test('has the alerts issue 23 asks for', () => {
    expect(alerts.map((a) => a.alert).sort()).toEqual(
      [
        'MatomoLiveGatewayDown',
        'MatomoLiveGatewayNearMaxConnections',
        'MatomoLiveGatewayRedisDown',
        'MatomoLiveMatomoBlocksPoller',
        'MatomoLiveMatomoTokenRefused',
        'MatomoLiveMatomoUnreachable',
        'MatomoLivePollerDown',
        'MatomoLivePollerRedisDown',
        'MatomoLiveRebalancingStuck',
        'MatomoLiveSiteDataStale',
        'MatomoLiveSiteWithoutLeader',
        'MatomoLiveSlowConsumersRising',
        'MatomoLiveVisitEventLag',
      ].sort(),
    );
  });

  test('every alert has a severity, a summary and a runbook_url to its section of docs/OPERATIONS.md', () => {
    const section = docSection(readFileSync(OPERATIONS_MD, 'utf8'), 'observability');
    const anchors = new Set([...section.matchAll(/^#{2,6} (.+)$/gm)].map((m) => anchorOf(m[1]!)));
    const problems = alerts.flatMap((a) => {
      const url = a.annotations?.runbook_url ?? '';
      const anchor = /^docs\/OPERATIONS\.md#(.+)$/.exec(url)?.[1];
      return [
        ...(['critical', 'warning'].includes(a.labels?.severity ?? '') ? [] : [`${a.alert}: severity ${a.labels?.severity}`]),
        ...(a.annotations?.summary ? [] : [`${a.alert}: no summary`]),
        ...(anchor !== undefined && anchors.has(anchor) && anchor === anchorOf(a.alert) ? [] : [`${a.alert}: runbook_url ${url}`]),
      ];
    });
    expect(problems).toEqual([]);
  });

  test('every rule reads metrics that exist and names no job or instance', () => {
    const known = knownMetrics();
    const problems = rules.flatMap((r) => [
      ...unknownSeries(r.expr, known).map((name) => `${r.alert ?? r.record}: unknown ${name}`),
      ...hardCodedTargets(r.expr).map((m) => `${r.alert ?? r.record}: ${m}`),
      ...(/\$\{?\w/.test(r.expr) ? [`${r.alert ?? r.record}: a variable in ${r.expr}`] : []),
    ]);
    expect(problems).toEqual([]);
  });

  test('prometheus-rules.test.yml loads the rules and sees every alert fire and stay quiet', () => {
    expect(ruleTests.rule_files).toEqual(['prometheus-rules.yml']);
    const untested = alerts.flatMap((a) => {
      const mine = alertTests.filter((t) => t.alertname === a.alert);
      return [
        ...(mine.some((t) => (t.exp_alerts ?? []).length > 0) ? [] : [`${a.alert}: never expected to fire`]),
        ...(mine.some((t) => (t.exp_alerts ?? []).length === 0) ? [] : [`${a.alert}: never expected to stay quiet`]),
      ];
    });
    expect(untested).toEqual([]);
  });
});

const promtool = findPrometheusTool('promtool');
const withPromtool = promtool === undefined ? describe.skip : describe;
if (promtool === undefined) console.warn(missingToolWarning('promtool', 'The alert rules are'));

withPromtool('promtool', () => {
  const run = (...args: string[]) =>
    execFileSync(promtool!, args, { cwd: OBSERVABILITY_DIR, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

  test('check rules: the file is valid', () => {
    expect(run('check', 'rules', 'prometheus-rules.yml')).toContain(`SUCCESS: ${rules.length} rules found`);
  });

  test('test rules: every unit test passes', () => {
    expect(run('test', 'rules', 'prometheus-rules.test.yml')).toContain('SUCCESS');
  });

  test('a broken rule fails its unit test (promtool does compare)', () => {
    const broken = readFileSync(RULES, 'utf8').replace('matomo_live_gateway_feed_ready == 0', 'matomo_live_gateway_feed_ready == 1');
    const dir = mkdtempSync(join(tmpdir(), 'prometheus-rules-'));
    try {
      writeFileSync(join(dir, 'prometheus-rules.test.yml'), readFileSync(RULE_TESTS));
      writeFileSync(join(dir, 'prometheus-rules.yml'), broken);
      const result = spawnSync(promtool!, ['test', 'rules', 'prometheus-rules.test.yml'], { cwd: dir, encoding: 'utf8' });
      expect(result.status).not.toBe(0);
      expect(result.stdout + result.stderr).toContain('MatomoLiveGatewayRedisDown');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
