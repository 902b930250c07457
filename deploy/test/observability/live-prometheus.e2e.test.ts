// The observability files against the real thing: a poller (on the
// simulator) and two gateways with WebSocket clients, scraped by Debian's
// Prometheus with a generated config (1 s scrapes, job names nobody
// hard-codes) and prometheus-rules.yml loaded. Both services' /metrics pass
// `promtool check metrics`; every rule group loads and evaluates without
// error; every panel query and variable query of grafana-dashboard.json
// answers without error and with data. Skipped loudly without the binaries.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { freePort, waitFor, waitForPort } from '@matomo-live/redis-ha';
import { startProcess, type ServiceProcess } from '@matomo-live/test-support/processes';
import { startLiveStack, type LiveStack } from './live-stack';
import { OBSERVABILITY_DIR } from './metric-catalog';
import { findPrometheusTool, missingToolWarning } from './prometheus-tools';

interface Panel {
  title: string;
  type: string;
  targets?: Array<{ expr: string; refId: string }>;
  panels?: Panel[];
}
interface Dashboard {
  panels: Panel[];
  templating: { list: Array<{ name: string; type: string; query?: string | { query: string } }> };
}
interface ApiAnswer<T> {
  status: 'success' | 'error';
  data: T;
  error?: string;
}

const RULES = join(OBSERVABILITY_DIR, 'prometheus-rules.yml');
const dashboard = JSON.parse(readFileSync(join(OBSERVABILITY_DIR, 'grafana-dashboard.json'), 'utf8')) as Dashboard;
const ruleCount = (parse(readFileSync(RULES, 'utf8')) as { groups: Array<{ rules: unknown[] }> }).groups.flatMap((g) => g.rules).length;

/** A dashboard query as Grafana sends it with every variable on "All" (`.*`) and a 1 m $__rate_interval. */
function substituteVariables(expr: string): string {
  return expr.replace(/\$__rate_interval|\$\{__rate_interval\}/g, '1m').replace(/\$\{?(\w+)\}?/g, '.*');
}

/** A `label_values(selector, label)` variable query as PromQL (one series per value), else the query itself. */
function variableAsPromql(query: string): string {
  const m = /^\s*label_values\(\s*(.+)\s*,\s*(\w+)\s*\)\s*$/.exec(query);
  return m ? `count by (${m[2]}) (${m[1]})` : query;
}

const panelQueries = dashboard.panels
  .flatMap((p) => [p, ...(p.panels ?? [])])
  .flatMap((p) => (p.targets ?? []).map((t) => ({ what: `${p.title} ${t.refId}`, expr: substituteVariables(t.expr) })));
const variableQueries = dashboard.templating.list
  .filter((v) => v.type === 'query')
  .map((v) => ({
    what: `variable ${v.name}`,
    expr: substituteVariables(variableAsPromql(typeof v.query === 'string' ? v.query : (v.query?.query ?? ''))),
  }));

const promtool = findPrometheusTool('promtool');
const prometheus = findPrometheusTool('prometheus');
if (promtool === undefined) console.warn(missingToolWarning('promtool', "The services' /metrics are"));
if (prometheus === undefined) console.warn(missingToolWarning('prometheus', 'The dashboard queries and the rules loading are'));

describe('substituteVariables / variableAsPromql', () => {
  test('turn dashboard queries into what Prometheus evaluates', () => {
    expect(substituteVariables('sum(rate(x{job=~"$gateway_job", instance=~"${gateway}"}[$__rate_interval]))')).toBe(
      'sum(rate(x{job=~".*", instance=~".*"}[1m]))',
    );
    expect(variableAsPromql('label_values(x{job=~"$j"}, instance)')).toBe('count by (instance) (x{job=~"$j"})');
  });
});

const live = promtool === undefined && prometheus === undefined ? describe.skip : describe;
live('a live poller and two gateways', () => {
  let stack: LiveStack;
  beforeAll(async () => {
    stack = await startLiveStack();
  }, 120_000);
  afterAll(async () => stack?.stop());

  const scrape = async (target: string) => {
    const res = await fetch(`http://${target}/metrics`);
    expect(res.status).toBe(200);
    return res.text();
  };

  (promtool ? test : test.skip)('promtool check metrics finds nothing in the poller nor the gateway', async () => {
    for (const [what, target] of [
      ['poller', stack.poller],
      ['gateway', stack.gateways[0]!],
    ] as const) {
      const text = await scrape(target);
      expect(text).toContain(`matomo_live_${what}_`);
      const lint = spawnSync(promtool!, ['check', 'metrics'], { input: text, encoding: 'utf8' });
      expect({ what, status: lint.status, output: `${lint.stdout}${lint.stderr}`.trim() }).toEqual({ what, status: 0, output: '' });
    }
  });

  (prometheus ? describe : describe.skip)('Prometheus', () => {
    let server: ServiceProcess;
    let api: string;
    let dir: string;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'matomo-live-prometheus-'));
      const config = {
        global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
        rule_files: [RULES],
        scrape_configs: [
          { job_name: 'edge-fleet', static_configs: [{ targets: stack.gateways }] },
          { job_name: 'matomo-pollers', static_configs: [{ targets: [stack.poller] }] },
        ],
      };
      writeFileSync(join(dir, 'prometheus.yml'), JSON.stringify(config));
      const port = await freePort();
      api = `http://127.0.0.1:${port}/api/v1`;
      server = startProcess(prometheus!, [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ]);
      await waitForPort(port, server, 30_000);
      await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/-/ready`)).ok, 'Prometheus ready', 30_000, {
        errorsMeanNotYet: true,
      });
    }, 60_000);
    afterAll(async () => {
      await server?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    async function get<T>(path: string): Promise<ApiAnswer<T>> {
      return (await (await fetch(`${api}${path}`)).json()) as ApiAnswer<T>;
    }

    test('scrapes every target (up)', async () => {
      type Targets = { activeTargets: Array<{ scrapeUrl: string; health: string; lastError: string }> };
      const targets = async () => (await get<Targets>('/targets')).data.activeTargets;
      await waitFor(
        async () => {
          const active = await targets();
          return active.length === 3 && active.every((t) => t.health === 'up');
        },
        'every target up',
        30_000,
      ).catch(() => undefined);
      expect((await targets()).map((t) => [t.scrapeUrl, t.health, t.lastError]).sort()).toEqual(
        [stack.poller, ...stack.gateways].map((t) => [`http://${t}/metrics`, 'up', '']).sort(),
      );
    }, 40_000);

    test('loads prometheus-rules.yml and evaluates every rule without error', async () => {
      type Rules = { groups: Array<{ name: string; rules: Array<{ name: string; health: string; lastError?: string }> }> };
      const all = async () => (await get<Rules>('/rules')).data.groups.flatMap((g) => g.rules.map((r) => ({ group: g.name, ...r })));
      await waitFor(async () => (await all()).every((r) => r.health !== 'unknown'), 'every rule evaluated', 30_000);
      const rules = await all();
      expect(rules).toHaveLength(ruleCount);
      expect(rules.filter((r) => r.health !== 'ok').map((r) => `${r.name}: ${r.health} ${r.lastError ?? ''}`)).toEqual([]);
    }, 40_000);

    test('answers every panel query and variable query of the dashboard, without error and with data', async () => {
      const queries = [...panelQueries, ...variableQueries];
      expect(panelQueries.length).toBeGreaterThan(20);
      type Vector = { resultType: string; result: unknown[] };
      const evaluate = async () =>
        Promise.all(
          queries.map(async ({ what, expr }) => {
            const answer = await get<Vector>(`/query?query=${encodeURIComponent(expr)}`);
            if (answer.status !== 'success') return `${what}: error ${answer.error} in ${expr}`;
            return answer.data.result.length === 0 ? `${what}: empty for ${expr}` : undefined;
          }),
        );
      let problems: string[] = [];
      // Rates need two scrapes within their window and data ages a first good answer: wait for them, not for a time.
      await waitFor(
        async () => {
          problems = (await evaluate()).filter((p): p is string => p !== undefined);
          return problems.length === 0 || problems.some((p) => p.includes(': error '));
        },
        'every dashboard query to answer with data',
        60_000,
        { everyMs: 500 },
      ).catch(() => undefined);
      expect(problems).toEqual([]);
      // Not vacuous: a misspelled metric is an empty answer, a broken query an error.
      expect((await get<Vector>(`/query?query=${encodeURIComponent('matomo_live_gateway_conections')}`)).data.result).toEqual([]);
      expect((await get<Vector>(`/query?query=${encodeURIComponent('sum(rate(up[1m])')}`)).status).toBe('error');
    }, 70_000);
  });
});
