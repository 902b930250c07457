// deploy/observability/grafana-dashboard.json as Grafana imports it: the
// panels the operator needs, every query on metrics that exist (the gateway's
// registered names or the poller spec in docs/OPERATIONS.md), dashboard
// variables only in `=~"$var"` matchers, and no job or instance value written
// in (scrape jobs are named by whoever runs Prometheus).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  OBSERVABILITY_DIR,
  hardCodedTargets,
  knownMetrics,
  matcherVariables,
  seriesNames,
  unknownSeries,
  variablesOutsideMatchers,
} from './metric-catalog';

interface Target {
  expr: string;
  refId: string;
}
interface Panel {
  id: number;
  type: string;
  title: string;
  targets?: Target[];
  panels?: Panel[];
  datasource?: { type: string; uid: string };
}
interface Variable {
  name: string;
  type: string;
  query?: string | { query: string };
  definition?: string;
}
interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: Variable[] };
}

const dashboard = JSON.parse(readFileSync(join(OBSERVABILITY_DIR, 'grafana-dashboard.json'), 'utf8')) as Dashboard;
const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]).filter((p) => p.type !== 'row');
const queries = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));
const variableQueries = dashboard.templating.list
  .filter((v) => v.type === 'query')
  .map((v) => ({ variable: v.name, expr: typeof v.query === 'string' ? v.query : (v.query?.query ?? '') }));
const everyExpr = [...queries.map((q) => q.expr), ...variableQueries.map((q) => q.expr)];

describe('grafana-dashboard.json', () => {
  test('has the panels of issue 23, each with at least one query', () => {
    const titles = panels.map((p) => p.title);
    for (const wanted of [
      'Connections per gateway',
      'Deliveries/s',
      'Send lag p99',
      'Closes by code',
      'Admission and rebalancing',
      'Poller tick time',
      'Matomo time per part',
      'Matomo failures per part',
      'Data age per site',
      'Redis feed state',
      'Events written and replayed',
    ])
      expect(titles).toContain(wanted);
    for (const panel of panels) expect([panel.title, (panel.targets ?? []).length > 0]).toEqual([panel.title, true]);
    expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
  });

  test('every query reads metrics that exist: registered by the gateway or specified for the poller', () => {
    const known = knownMetrics();
    const unknown = everyExpr.flatMap((expr) => unknownSeries(expr, known).map((name) => `${name} in ${expr}`));
    expect(unknown).toEqual([]);
    // Not vacuous: the queries do read both services' metrics.
    const read = new Set(everyExpr.flatMap(seriesNames));
    expect([...read].some((n) => n.startsWith('matomo_live_gateway_'))).toBe(true);
    expect([...read].some((n) => n.startsWith('matomo_live_poller_'))).toBe(true);
  });

  test('dashboard variables appear only in =~"$var" matchers, and no job or instance value is written in', () => {
    expect(everyExpr.flatMap((expr) => variablesOutsideMatchers(expr).map((v) => `${v} in ${expr}`))).toEqual([]);
    expect(everyExpr.flatMap((expr) => hardCodedTargets(expr).map((m) => `${m} in ${expr}`))).toEqual([]);
  });

  test('every variable a query uses is defined, and every defined one is used', () => {
    const defined = new Set(dashboard.templating.list.map((v) => v.name));
    const used = new Set(everyExpr.flatMap(matcherVariables));
    expect([...used].filter((v) => !defined.has(v))).toEqual([]);
    const panelDatasources = panels.map((p) => p.datasource?.uid);
    expect(new Set(panelDatasources)).toEqual(new Set(['${datasource}']));
    expect([...defined].filter((v) => v !== 'datasource' && !used.has(v))).toEqual([]);
  });

  test('the checks catch what they are for', () => {
    const known = knownMetrics();
    expect(unknownSeries('rate(matomo_live_gateway_conections_total[5m])', known)).toEqual(['matomo_live_gateway_conections_total']);
    expect(unknownSeries('rate(matomo_live_gateway_send_lag_seconds_bucket[5m])', known)).toEqual([]);
    expect(unknownSeries('matomo_live_gateway_connections_bucket', known)).toEqual(['matomo_live_gateway_connections_bucket']);
    expect(hardCodedTargets('sum(matomo_live_gateway_connections{job="matomo-live-gateway"})')).toHaveLength(1);
    expect(hardCodedTargets('sum(matomo_live_gateway_connections{instance=~"gw-1.*"})')).toHaveLength(1);
    expect(hardCodedTargets('sum(matomo_live_gateway_connections{job=~"$gateway_job"})')).toEqual([]);
    expect(variablesOutsideMatchers('sum(x{site="$site"})')).toEqual(['$site']);
    expect(variablesOutsideMatchers('topk($n, x{site=~"$site"}[$__rate_interval])')).toEqual(['$n']);
  });
});
