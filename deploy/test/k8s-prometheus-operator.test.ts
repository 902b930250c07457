// Scraping on Kubernetes, both ways: the pods' prometheus.io/* annotations
// (annotation-based discovery) name the port the container serves /metrics
// on, and the optional component prometheus-operator adds PodMonitors that
// select those pods by label and port name, plus the alert rules as a
// PrometheusRule equal to deploy/observability/prometheus-rules.yml.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { FIRST_FETCH_MS, K8sObject, KUSTOMIZATIONS, containerOf, find, podSpecOf, renderTemporary, rendered } from './k8s-manifests';

const WORKLOADS = { gateway: 'matomo-live-gateway', poller: 'matomo-live-poller' } as const;
let withOperator: K8sObject[] = [];

beforeAll(() => {
  rendered(KUSTOMIZATIONS.trial);
  withOperator = renderTemporary(
    [
      'apiVersion: kustomize.config.k8s.io/v1beta1',
      'kind: Kustomization',
      'namespace: obs',
      'resources:',
      '  - {{k8s}}/base',
      'components:',
      '  - {{k8s}}/components/prometheus-operator',
      '',
    ].join('\n'),
  );
}, FIRST_FETCH_MS);

/** containerPort of the port named `name` in the workload's containers. */
function portNamed(workload: K8sObject, name: string): number | undefined {
  return podSpecOf(workload)
    .containers.flatMap((c) => (c as { ports?: Array<{ name?: string; containerPort: number }> }).ports ?? [])
    .find((p) => p.name === name)?.containerPort;
}

describe.each(Object.entries(WORKLOADS))('%s pods', (service, name) => {
  test('carry prometheus.io annotations naming the port and path of /metrics', () => {
    const deployment = find(rendered(KUSTOMIZATIONS.trial), 'Deployment', name);
    const annotations = deployment.spec.template.metadata.annotations ?? {};
    const portName = service === 'gateway' ? 'http' : 'health';
    expect(annotations).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/path': '/metrics' });
    expect(Number(annotations['prometheus.io/port'])).toBe(portNamed(deployment, portName));
    expect(containerOf(deployment, service)).toBeDefined();
  });

  test('a PodMonitor of the component selects them on a named port of theirs', () => {
    const deployment = find(withOperator, 'Deployment', name);
    const monitor = find(withOperator, 'PodMonitor', name);
    expect(monitor.metadata.namespace).toBe('obs');
    const podLabels = deployment.spec.template.metadata.labels as Record<string, string>;
    expect(podLabels).toMatchObject(monitor.spec.selector.matchLabels);
    // Selects this workload's pods only, not the other service's.
    const other = find(withOperator, 'Deployment', service === 'gateway' ? WORKLOADS.poller : WORKLOADS.gateway);
    expect(other.spec.template.metadata.labels).not.toMatchObject(monitor.spec.selector.matchLabels);
    for (const endpoint of monitor.spec.podMetricsEndpoints as Array<{ port: string; path: string }>) {
      expect(portNamed(deployment, endpoint.port)).toBeDefined();
      expect(endpoint.path).toBe('/metrics');
    }
  });
});

test('the PrometheusRule holds exactly the groups of deploy/observability/prometheus-rules.yml', () => {
  const rules = parse(readFileSync(join(__dirname, '..', 'observability', 'prometheus-rules.yml'), 'utf8')) as { groups: unknown[] };
  const rule = find(withOperator, 'PrometheusRule', 'matomo-live');
  expect(rule.spec).toEqual(rules);
});
