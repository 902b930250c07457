// deploy/k8s renders with the pinned kustomize, and every object it renders
// validates offline against the Kubernetes / Gateway API schemas.
import {
  describeObject,
  fieldProblems,
  find,
  K8sObject,
  kubectlVersion,
  KUSTOMIZATIONS,
  rendered,
  renderTemporary,
  schemaProblems,
  FIRST_FETCH_MS,
} from './k8s-manifests';

/** Every component together, so the ones no shipped kustomization uses are rendered too. */
const ALL_COMPONENTS = `
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: matomo-live
resources: ["{{k8s}}/base"]
components:
  - "{{k8s}}/components/redis"
  - "{{k8s}}/components/ingress-nginx"
  - "{{k8s}}/components/gateway-api"
  - "{{k8s}}/components/hpa-connections"
`;
// components/redis-sentinel and components/redis-cluster are rendered by the overlays of the same names.

beforeAll(() => {
  kubectlVersion();
}, FIRST_FETCH_MS);

test('the renderer is the pinned kubectl 1.33.9 with kustomize v5 (unless KUBECTL overrides it)', () => {
  const version = kubectlVersion();
  if (process.env.KUBECTL) {
    expect(version).toMatch(/Kustomize Version: v5\./);
  } else {
    expect(version).toContain('Client Version: v1.33.9');
    expect(version).toContain('Kustomize Version: v5.6.0');
  }
});

describe.each(Object.entries(KUSTOMIZATIONS))('kustomization %s', (_name, dir) => {
  test('renders, with unique objects', () => {
    const objects = rendered(dir);
    expect(objects.length).toBeGreaterThan(5);
    const ids = objects.map((o) => `${o.apiVersion} ${describeObject(o)}`);
    expect(new Set(ids).size).toBe(ids.length);
  });

  test('every object validates against its schema', () => {
    const objects = rendered(dir);
    expect(objects.flatMap(schemaProblems)).toEqual([]);
  });
});

test('every component renders and validates (base + all components)', () => {
  const objects = renderTemporary(ALL_COMPONENTS);
  expect(objects.flatMap(schemaProblems)).toEqual([]);
  const kinds = new Set(objects.map((o) => o.kind));
  for (const kind of ['StatefulSet', 'NetworkPolicy', 'Ingress', 'HTTPRoute', 'HorizontalPodAutoscaler']) expect(kinds).toContain(kind);
  const hpa = objects.find((o) => o.kind === 'HorizontalPodAutoscaler');
  expect(hpa?.spec.metrics.map((m: { type: string }) => m.type)).toEqual(['Resource', 'Pods']);
});

test('no object has a field its kind does not define, or a value of the wrong type', () => {
  // The schema validators let unknown fields through; the models' TypeScript interfaces do not.
  const objects = [
    ...rendered(KUSTOMIZATIONS.trial),
    ...rendered(KUSTOMIZATIONS.example),
    ...rendered(KUSTOMIZATIONS.sentinel),
    ...rendered(KUSTOMIZATIONS.redisCluster),
    ...renderTemporary(ALL_COMPONENTS),
  ];
  expect(fieldProblems(objects)).toEqual([]);
}, 120_000);

describe('broken input is rejected', () => {
  const gateway = (): K8sObject => structuredClone(find(rendered(KUSTOMIZATIONS.trial), 'Deployment', 'matomo-live-gateway'));

  test('a Deployment whose port is a string', () => {
    const broken = gateway();
    broken.spec.template.spec.containers[0].ports[0].containerPort = '8080';
    expect(schemaProblems(gateway())).toEqual([]);
    expect(schemaProblems(broken).join('\n')).toMatch(/containerPort must be integer/);
  });

  test('a misspelt field, and a count given as text', () => {
    const broken = gateway();
    const container = broken.spec.template.spec.containers[0];
    container.readinesProbe = container.readinessProbe;
    delete container.readinessProbe;
    broken.spec.replicas = 'two';
    expect(schemaProblems(broken).join('\n')).not.toMatch(/readinesProbe/); // why fieldProblems exists
    const problems = fieldProblems([broken]);
    expect(problems).toHaveLength(2);
    expect(problems.join('\n')).toMatch(/Deployment\/matomo-live-gateway: .*'"readinesProbe"' does not exist in type 'IContainer'/);
    expect(problems.join('\n')).toMatch(/Type 'string' is not assignable to type 'number'\. at: "replicas": "two"/);
  }, 120_000);

  test('a Deployment without containers', () => {
    const broken = gateway();
    delete broken.spec.template.spec.containers;
    expect(schemaProblems(broken).join('\n')).toMatch(/containers/);
  });

  test('an HTTPRoute with an invalid timeout', () => {
    const route = structuredClone(rendered(KUSTOMIZATIONS.example).find((o) => o.kind === 'HTTPRoute')!);
    expect(schemaProblems(route)).toEqual([]);
    route.spec.rules[0].timeouts.request = 'forever';
    expect(schemaProblems(route).join('\n')).toMatch(/timeouts\/request must match pattern/);
  });

  test('an object of a kind no schema knows', () => {
    const unknown: K8sObject = { apiVersion: 'example.org/v1', kind: 'Widget', metadata: { name: 'w' } };
    expect(schemaProblems(unknown)).toEqual(['Widget/w: no schema known for example.org/v1 Widget']);
  });

  test("a kustomization naming a missing resource fails to render, with kustomize's reason", () => {
    expect(() => renderTemporary('resources: ["{{k8s}}/base", "missing.yaml"]\n')).toThrow(/missing\.yaml/);
  });

  test('an overlay patch naming a Deployment that does not exist fails to render', () => {
    const kustomization = `
resources: ["{{k8s}}/base"]
patches:
  - patch: |-
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: matomo-live-gatway
      spec:
        replicas: 3
`;
    expect(() => renderTemporary(kustomization)).toThrow(/matomo-live-gatway/);
  });
});
