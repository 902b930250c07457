// What the observability files may name, and the checks the dashboard and
// rule tests share: the metric names the gateway registers (read from its
// source, wherever the gateway's modules live), the poller metrics specified
// in docs/OPERATIONS.md, and PromQL hygiene (no job or instance values, since
// scrape jobs are named by whoever runs Prometheus). Every check returns a
// list of problems (empty = fine) so tests can feed it broken input too.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const REPO_ROOT = resolve(__dirname, '..', '..', '..');
export const OBSERVABILITY_DIR = join(REPO_ROOT, 'deploy', 'observability');
export const OPERATIONS_MD = join(REPO_ROOT, 'docs', 'OPERATIONS.md');

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary';

/** Metrics every Prometheus has without any exporter. */
const PROMETHEUS_OWN = new Map<string, MetricType>([['up', 'gauge']]);

function tsFilesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => join(entry.parentPath, entry.name));
}

/** `name: 'matomo_live_gateway_…'` of every prom-client metric under gateway/src, with its class as the type. */
export function gatewayMetrics(sourceDir = join(REPO_ROOT, 'gateway', 'src')): Map<string, MetricType> {
  const metrics = new Map<string, MetricType>();
  for (const file of tsFilesUnder(sourceDir)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/new (Counter|Gauge|Histogram|Summary)\b[^(]*\(\s*\{\s*name:\s*'(matomo_live_gateway_[a-z0-9_]+)'/g))
      metrics.set(m[2]!, m[1]!.toLowerCase() as MetricType);
  }
  return metrics;
}

/** The text between `<!-- section:NAME -->` and its closing marker. */
export function docSection(markdown: string, name: string): string {
  const start = markdown.indexOf(`<!-- section:${name} -->`);
  const end = markdown.indexOf(`<!-- /section:${name} -->`);
  if (start < 0 || end < start) throw new Error(`docs/OPERATIONS.md has no section "${name}"`);
  return markdown.slice(start, end);
}

/** Rows `| \`matomo_live_…\` | type | …` of the metric tables in the observability section: the specified metrics. */
export function specifiedMetrics(markdown = readFileSync(OPERATIONS_MD, 'utf8')): Map<string, MetricType> {
  const metrics = new Map<string, MetricType>();
  for (const m of docSection(markdown, 'observability').matchAll(
    /^\| `(matomo_live_[a-z0-9_]+)` \| (counter|gauge|histogram|summary) \|/gm,
  ))
    metrics.set(m[1]!, m[2] as MetricType);
  return metrics;
}

/** Every metric a panel or a rule may use: the gateway's, the specified ones, Prometheus' own. */
export function knownMetrics(): Map<string, MetricType> {
  return new Map([...PROMETHEUS_OWN, ...gatewayMetrics(), ...specifiedMetrics()]);
}

/** Names of series a PromQL expression reads: metric names, histogram suffixes included. */
export function seriesNames(expr: string): string[] {
  return [...new Set([...expr.matchAll(/\b(matomo_live_[a-z0-9_]+|up)\b(?!\s*\()/g)].map((m) => m[1]!))];
}

/** Series the expression reads that no known metric exports (a histogram exports _bucket, _count and _sum). */
export function unknownSeries(expr: string, known: Map<string, MetricType>): string[] {
  return seriesNames(expr).filter((name) => {
    if (known.has(name)) return known.get(name) === 'histogram';
    const histogram = /^(.*)_(bucket|count|sum)$/.exec(name);
    return !(histogram && known.get(histogram[1]!) === 'histogram');
  });
}

/** Matchers on job or instance with a written value: only `=~"$variable"` (dashboards) or none (rules) are allowed. */
export function hardCodedTargets(expr: string): string[] {
  return [...expr.matchAll(/\b(job|instance)\s*(=~|!~|!=|=)\s*"([^"]*)"/g)]
    .filter((m) => !(m[2] === '=~' && /^\$\{?\w+\}?$/.test(m[3]!)))
    .map((m) => m[0]);
}

/** Dashboard variables the expression uses outside an `=~"$var"` matcher ($__ globals such as $__rate_interval aside). */
export function variablesOutsideMatchers(expr: string): string[] {
  const rest = expr.replace(/\b\w+\s*=~\s*"\$\{?\w+\}?"/g, '');
  return [...rest.matchAll(/\$\{?(?!__)(\w+)\}?|\[\[(\w+)\]\]/g)].map((m) => m[0]);
}

/** Variables an expression uses in its `=~"$var"` matchers. */
export function matcherVariables(expr: string): string[] {
  return [...expr.matchAll(/\b\w+\s*=~\s*"\$\{?(\w+)\}?"/g)].map((m) => m[1]!);
}
