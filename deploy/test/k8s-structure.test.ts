// What the Kubernetes deployment promises, asserted on the rendered objects:
// gateways that drain before they die and scale, a poller that has a
// standby, containers locked down, Redis reachable only by our pods, and an
// entry point (Ingress or HTTPRoute) with WebSocket-friendly timeouts.
import { loadGatewayConfig } from '@matomo-live/shared';
import { containerEnvironment, containerOf, find, K8sObject, KUSTOMIZATIONS, podSpecOf, rendered, FIRST_FETCH_MS } from './k8s-manifests';

const trial = () => rendered(KUSTOMIZATIONS.trial);
const example = () => rendered(KUSTOMIZATIONS.example);

beforeAll(() => {
  trial();
  example();
}, FIRST_FETCH_MS);

/** Seconds a gateway needs between "Terminating" and exit: preStop pause + DRAIN_WINDOW. */
function shutdownBudgetSeconds(objects: K8sObject[], gateway: K8sObject): number {
  const preStop = containerOf(gateway, 'gateway').lifecycle?.preStop;
  const pause = preStop?.sleep?.seconds ?? (preStop?.exec?.command[0] === 'sleep' ? Number(preStop.exec.command[1]) : NaN);
  const { vars } = containerEnvironment(objects, containerOf(gateway, 'gateway'));
  // The loader applies the default (and the 10 s maximum) when DRAIN_WINDOW is unset.
  // Secret files do not exist here, and only DRAIN_WINDOW matters.
  const plain = Object.fromEntries(Object.entries(vars).filter(([name]) => !name.endsWith('_FILE')));
  const drainMs = loadGatewayConfig({ ...plain, VALID_TOKENS: 'x' }, { dotenv: false, requireRedis: false }).drainWindowMs;
  return pause + drainMs / 1000;
}

/**
 * The gateway exits at the latest DRAIN_WINDOW + 5 s after SIGTERM
 * (gateway/src/main.ts), which comes after the preStop pause: the grace
 * period must cover pause + drain + 5 s or the kubelet SIGKILLs a drain.
 */
function gracePeriodProblem(objects: K8sObject[], gateway: K8sObject): string | undefined {
  const needed = shutdownBudgetSeconds(objects, gateway) + 5;
  if (Number.isNaN(needed)) return 'no preStop pause (sleep action or exec sleep)';
  const grace = gateway.spec.template.spec.terminationGracePeriodSeconds ?? 30;
  return grace >= needed ? undefined : `terminationGracePeriodSeconds ${grace} < preStop pause + DRAIN_WINDOW + 5 s = ${needed}`;
}

describe.each([
  ['trial', KUSTOMIZATIONS.trial],
  ['example', KUSTOMIZATIONS.example],
  ['sentinel', KUSTOMIZATIONS.sentinel],
  ['redisCluster', KUSTOMIZATIONS.redisCluster],
] as const)('kustomization %s', (_name, dir) => {
  const objects = () => rendered(dir);
  const gateway = () => find(objects(), 'Deployment', 'matomo-live-gateway');
  const poller = () => find(objects(), 'Deployment', 'matomo-live-poller');

  test('gateways: at least 2, probes on /readyz and /healthz, surge before drain', () => {
    const deployment = gateway();
    expect(deployment.spec.replicas).toBeGreaterThanOrEqual(2);
    expect(deployment.spec.strategy.rollingUpdate).toEqual({ maxSurge: 1, maxUnavailable: 0 });
    const container = containerOf(deployment, 'gateway') as Record<string, any>;
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(container.ports).toContainEqual({ name: 'http', containerPort: 8080, protocol: 'TCP' });
  });

  test('gateways: a preStop pause, and a grace period longer than pause + drain window', () => {
    const deployment = gateway();
    expect(shutdownBudgetSeconds(objects(), deployment)).toBe(10); // 5 s pause + 5 s DRAIN_WINDOW
    expect(gracePeriodProblem(objects(), deployment)).toBeUndefined();
  });

  test('gateways: PodDisruptionBudget and autoscaler (autoscaling/v2, CPU, at least 2)', () => {
    const pdb = find(objects(), 'PodDisruptionBudget', 'matomo-live-gateway');
    expect(pdb.spec.selector.matchLabels).toEqual(gateway().spec.selector.matchLabels);
    expect(pdb.spec.maxUnavailable).toBe(1);
    const hpa = find(objects(), 'HorizontalPodAutoscaler', 'matomo-live-gateway');
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'matomo-live-gateway' });
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
    expect(hpa.spec.metrics).toContainEqual({
      type: 'Resource',
      resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } },
    });
    const container = containerOf(gateway(), 'gateway') as Record<string, any>;
    expect(container.resources.requests.cpu).toBeDefined(); // CPU utilization is relative to the request
  });

  test('gateways: the Service selects them on the named port', () => {
    const service = find(objects(), 'Service', 'matomo-live-gateway');
    expect(service.spec.selector).toEqual(gateway().spec.selector.matchLabels);
    expect(service.spec.ports).toContainEqual({ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' });
  });

  test('poller: two replicas (active/standby by lease), never Recreate, spread, with its own PDB', () => {
    const deployment = poller();
    expect(deployment.spec.replicas).toBe(2);
    expect(deployment.spec.strategy.type).toBe('RollingUpdate');
    expect(deployment.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
    const anti = deployment.spec.template.spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0];
    expect(anti.podAffinityTerm).toMatchObject({
      topologyKey: 'kubernetes.io/hostname',
      labelSelector: { matchLabels: deployment.spec.selector.matchLabels },
    });
    const { vars } = containerEnvironment(objects(), containerOf(deployment, 'poller'));
    // The lease length is set explicitly, and both replicas share one Redis and prefix (one lease).
    expect(Number(vars.LEASE_TTL)).toBeGreaterThanOrEqual(1000);
    expect(vars.REDIS_PREFIX).toBeDefined();
    const container = containerOf(deployment, 'poller') as Record<string, any>;
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'health' });
    // Never /healthz: it is 503 while Matomo refuses the token, and restarts would defeat the auth back-off.
    expect(container.livenessProbe.httpGet).toEqual({ path: '/readyz', port: 'health' });
    expect(container.livenessProbe.periodSeconds * container.livenessProbe.failureThreshold).toBeGreaterThanOrEqual(60);
    expect(find(objects(), 'PodDisruptionBudget', 'matomo-live-poller').spec.maxUnavailable).toBe(1);
  });

  test('every container: non-root 1000 (Redis: 999), read-only root, no escalation, no capabilities, RuntimeDefault seccomp', () => {
    const workloads = objects().filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet');
    expect(workloads.length).toBeGreaterThanOrEqual(2);
    for (const workload of workloads) {
      const pod = workload.spec.template.spec;
      const uid = workload.metadata.name === 'redis' ? 999 : 1000;
      expect([workload.metadata.name, pod.securityContext]).toMatchObject([
        workload.metadata.name,
        { runAsNonRoot: true, runAsUser: uid, runAsGroup: uid, seccompProfile: { type: 'RuntimeDefault' } },
      ]);
      expect([workload.metadata.name, pod.automountServiceAccountToken, pod.enableServiceLinks]).toEqual([
        workload.metadata.name,
        false,
        false,
      ]);
      for (const container of pod.containers) {
        expect([container.name, container.securityContext]).toEqual([
          container.name,
          {
            runAsNonRoot: true,
            runAsUser: uid,
            runAsGroup: uid,
            readOnlyRootFilesystem: true,
            allowPrivilegeEscalation: false,
            privileged: false,
            capabilities: { drop: ['ALL'] },
            seccompProfile: { type: 'RuntimeDefault' },
          },
        ]);
        expect(container.resources.limits.memory).toBeDefined();
      }
    }
  });

  test('images are the matomo-live ones, with a tag', () => {
    const images = [gateway(), poller()].map((d) => d.spec.template.spec.containers[0].image as string);
    expect(images[0]).toMatch(/matomo-live[-/]gateway:[\w.-]+$/);
    expect(images[1]).toMatch(/matomo-live[-/]poller:[\w.-]+$/);
  });

  test('secret volumes are read-only files for the service group only', () => {
    for (const workload of [gateway(), poller()]) {
      const pod = podSpecOf(workload);
      for (const volume of (pod.volumes ?? []).filter((v) => v.secret))
        expect([volume.name, volume.secret?.defaultMode]).toEqual([volume.name, 0o440]);
      for (const mount of pod.containers[0]!.volumeMounts ?? []) {
        if (mount.mountPath.startsWith('/run/secrets/')) expect([mount.mountPath, mount.readOnly]).toEqual([mount.mountPath, true]);
      }
    }
  });
});

test('trial: Redis is a StatefulSet that only the poller and the gateways may reach', () => {
  const objects = trial();
  const redis = find(objects, 'StatefulSet', 'redis');
  expect(redis.spec.replicas).toBe(1);
  const policy = find(objects, 'NetworkPolicy', 'redis');
  expect(policy.spec.podSelector.matchLabels).toEqual(redis.spec.selector.matchLabels);
  expect(policy.spec.policyTypes).toEqual(['Ingress']);
  expect(policy.spec.ingress).toHaveLength(1);
  const [rule] = policy.spec.ingress;
  expect(rule.ports).toEqual([{ port: 'redis', protocol: 'TCP' }]);
  expect(rule.from).toEqual([
    {
      podSelector: {
        matchExpressions: [{ key: 'app.kubernetes.io/name', operator: 'In', values: ['matomo-live-poller', 'matomo-live-gateway'] }],
      },
    },
  ]);
  // The names the policy lets in are exactly the pods' labels.
  for (const name of ['matomo-live-poller', 'matomo-live-gateway']) {
    expect(find(objects, 'Deployment', name).spec.template.metadata.labels['app.kubernetes.io/name']).toBe(name);
  }
  const { vars } = containerEnvironment(objects, containerOf(find(objects, 'Deployment', 'matomo-live-poller'), 'poller'));
  expect(vars.REDIS_URL).toBe('redis://redis:6379');
  expect(find(objects, 'Service', 'redis').spec.selector).toEqual(redis.spec.selector.matchLabels);
});

test('trial: an ingress-nginx Ingress with raised WebSocket timeouts, routing only client paths', () => {
  const ingress = find(trial(), 'Ingress', 'matomo-live');
  expect(ingress.spec.ingressClassName).toBe('nginx');
  const annotations = ingress.metadata.annotations ?? {};
  for (const name of ['proxy-read-timeout', 'proxy-send-timeout']) {
    expect(Number(annotations[`nginx.ingress.kubernetes.io/${name}`])).toBeGreaterThanOrEqual(3600);
  }
  expect(annotations['nginx.ingress.kubernetes.io/enable-access-log']).toBe('false');
  const paths = ingress.spec.rules.flatMap((r: any) =>
    r.http.paths.map((p: any) => `${p.pathType} ${p.path} → ${p.backend.service.name}:${p.backend.service.port.name}`),
  );
  expect(paths).toEqual([
    'Exact / → matomo-live-gateway:http',
    'Prefix /ws → matomo-live-gateway:http',
    'Prefix /dashboard → matomo-live-gateway:http',
  ]);
});

test('example: a Gateway API HTTPRoute with the same paths, no request timeout, a host, and a managed Redis', () => {
  const objects = example();
  expect(objects.some((o) => o.kind === 'Ingress' || o.kind === 'StatefulSet')).toBe(false);
  const route = find(objects, 'HTTPRoute', 'matomo-live');
  expect(route.apiVersion).toBe('gateway.networking.k8s.io/v1');
  expect(route.spec.hostnames).toEqual(['live.example.org']);
  expect(route.spec.parentRefs[0]).toMatchObject({ name: 'public', namespace: 'gateway-system' });
  const [rule] = route.spec.rules;
  expect(rule.timeouts).toEqual({ request: '0s' });
  expect(rule.backendRefs).toEqual([{ name: 'matomo-live-gateway', port: 80 }]);
  expect(rule.matches.map((m: any) => `${m.path.type} ${m.path.value}`)).toEqual(['Exact /', 'PathPrefix /ws', 'PathPrefix /dashboard']);
  for (const name of ['matomo-live-poller', 'matomo-live-gateway']) {
    const { vars } = containerEnvironment(objects, containerOf(find(objects, 'Deployment', name), name.replace('matomo-live-', '')));
    expect([name, vars.REDIS_URL, vars.REDIS_URL_FILE]).toEqual([name, undefined, '/run/secrets/matomo-live-redis/redis-url']);
  }
});

test.each([
  [
    'sentinel',
    KUSTOMIZATIONS.sentinel,
    {
      REDIS_SENTINELS: 'redis:26379',
      REDIS_SENTINEL_MASTER: 'mymaster',
      REDIS_PASSWORD_FILE: '/run/secrets/redis/redis-password',
      REDIS_SENTINEL_PASSWORD_FILE: '/run/secrets/redis/redis-password',
    },
  ],
  [
    'redisCluster',
    KUSTOMIZATIONS.redisCluster,
    {
      REDIS_CLUSTER_NODES: 'clustercfg.matomo-live.example.org:6379',
      REDIS_TLS: 'true',
      REDIS_PASSWORD_FILE: '/run/secrets/matomo-live-redis/redis-password',
    },
  ],
] as const)('%s: one Redis HA mode for both services, the password from a Secret, no Redis of our own', (_name, dir, expected) => {
  const objects = rendered(dir);
  expect(objects.some((o) => o.kind === 'StatefulSet' || o.metadata.name === 'redis')).toBe(false);
  for (const name of ['matomo-live-poller', 'matomo-live-gateway']) {
    const { vars } = containerEnvironment(objects, containerOf(find(objects, 'Deployment', name), name.replace('matomo-live-', '')));
    expect([name, vars]).toMatchObject([name, expected]);
    expect([name, vars.REDIS_URL, vars.REDIS_URL_FILE]).toEqual([name, undefined, undefined]);
  }
});

test('a grace period too short for pause + drain window, or a missing pause, is caught', () => {
  const objects = structuredClone(trial());
  const deployment = find(objects, 'Deployment', 'matomo-live-gateway');
  const configMap = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('matomo-live-gateway-'))!;
  configMap.data.DRAIN_WINDOW = '10000';
  expect(gracePeriodProblem(objects, deployment)).toBeUndefined(); // 5 + 10 + 5 ≤ 30
  deployment.spec.template.spec.terminationGracePeriodSeconds = 15;
  expect(gracePeriodProblem(objects, deployment)).toBe('terminationGracePeriodSeconds 15 < preStop pause + DRAIN_WINDOW + 5 s = 20');
  delete containerOf(deployment, 'gateway').lifecycle;
  expect(gracePeriodProblem(objects, deployment)).toBe('no preStop pause (sleep action or exec sleep)');
});
