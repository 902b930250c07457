// The environment the manifests give each container is exactly what the
// services read: checked against the envalid specs (names, required ones)
// and by running the services' own config loaders on it, so config and
// manifests cannot drift apart. The same specs are the one config source of
// docker-compose.yml's environment lists (below) and of docs/CONFIGURATION.md
// (shared/test/config/docs-table.test.ts).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { FILE_VARIABLES, gatewayEnvSpec, loadGatewayConfig, loadPollerConfig, pollerEnvSpec } from '@matomo-live/shared';
import { REPO_ROOT } from '@matomo-live/test-support/processes';
import {
  containerEnvironment,
  containerOf,
  envSpecProblems,
  find,
  K8sObject,
  KUSTOMIZATIONS,
  podSpecOf,
  rendered,
  secretFiles,
  type EnvSpec,
  type SecretFile,
  FIRST_FETCH_MS,
} from './k8s-manifests';

/** What each service is, in the manifests and in shared/. */
const SERVICES = {
  poller: { deployment: 'matomo-live-poller', container: 'poller', spec: pollerEnvSpec as EnvSpec },
  gateway: { deployment: 'matomo-live-gateway', container: 'gateway', spec: gatewayEnvSpec as EnvSpec },
} as const;
type ServiceName = keyof typeof SERVICES;

/** Plausible Secret contents, by the variable a file stands for. */
const SAMPLE_SECRETS: Record<string, string> = {
  MATOMO_TOKEN: 'f3b2c1d0e9a8b7c6d5e4f3a2b1c0d9e8',
  VALID_TOKENS: 'screen-token-1,screen-token-2',
  REDIS_URL: 'rediss://:redis-password@redis.example.org:6380/0',
  REDIS_PASSWORD: 'redis-password',
  REDIS_SENTINEL_PASSWORD: 'redis-password',
  JWT_SECRET: 'a-thirty-two-byte-or-longer-hs256-secret',
};

let secretDir: string;
beforeAll(() => {
  rendered(KUSTOMIZATIONS.trial);
  secretDir = mkdtempSync(join(tmpdir(), 'matomo-live-k8s-secrets-'));
}, FIRST_FETCH_MS);
afterAll(() => rmSync(secretDir, { recursive: true, force: true }));

function environmentOf(objects: K8sObject[], service: ServiceName) {
  const workload = find(objects, 'Deployment', SERVICES[service].deployment);
  const container = containerOf(workload, SERVICES[service].container);
  const { vars, problems } = containerEnvironment(objects, container);
  const mounted = secretFiles(podSpecOf(workload), container, vars);
  return { workload, container, vars, files: mounted.files, problems: [...problems, ...mounted.problems] };
}

/** The environment with every *_FILE pointing at a local file holding a sample secret. */
function withSampleSecretFiles(vars: Record<string, string>, files: SecretFile[]): Record<string, string> {
  const env = { ...vars };
  for (const { variable } of files) {
    const name = variable.slice(0, -'_FILE'.length);
    const path = join(secretDir, name);
    writeFileSync(path, `${SAMPLE_SECRETS[name] ?? `sample-${name}`}\n`);
    env[variable] = path;
  }
  return env;
}

/** Secrets both services mount, besides their own, per kustomization: the Redis credentials. */
const SHARED_SECRETS: Record<string, string[]> = {
  trial: ['matomo-live-redis-password/redis-password'],
  example: ['matomo-live-redis/redis-url'],
  sentinel: ['redis/redis-password'],
  redisCluster: ['matomo-live-redis/redis-password'],
};

describe.each([
  ['trial', KUSTOMIZATIONS.trial],
  ['example', KUSTOMIZATIONS.example],
  ['sentinel', KUSTOMIZATIONS.sentinel],
  ['redisCluster', KUSTOMIZATIONS.redisCluster],
] as const)('kustomization %s', (name, dir) => {
  describe.each(Object.keys(SERVICES) as ServiceName[])('%s', (service) => {
    test('sets only variables the service reads, and every required one', () => {
      const { vars, problems } = environmentOf(rendered(dir), service);
      expect(problems).toEqual([]);
      expect(envSpecProblems(vars, SERVICES[service].spec)).toEqual([]);
    });

    test("the service's own config loader accepts the environment", () => {
      const { vars, files } = environmentOf(rendered(dir), service);
      const env = withSampleSecretFiles(vars, files);
      const options = { dotenv: false };
      expect(() => (service === 'poller' ? loadPollerConfig(env, options) : loadGatewayConfig(env, options))).not.toThrow();
    });
  });

  test('each service mounts only its own secrets (the gateways never see the Matomo token)', () => {
    const secretsOf = (service: ServiceName) => [
      ...new Set(environmentOf(rendered(dir), service).files.map((f) => `${f.secretName}/${f.key}`)),
    ];
    const shared = SHARED_SECRETS[name]!;
    expect(secretsOf('poller').sort()).toEqual(['matomo-live-poller-secrets/matomo-token', ...shared].sort());
    expect(secretsOf('gateway').sort()).toEqual(['matomo-live-gateway-secrets/valid-tokens', ...shared].sort());
  });

  test('ports in the manifests are the ports the services listen on', () => {
    const objects = rendered(dir);
    const poller = environmentOf(objects, 'poller');
    const gateway = environmentOf(objects, 'gateway');
    const pollerConfig = loadPollerConfig(withSampleSecretFiles(poller.vars, poller.files), { dotenv: false });
    const gatewayConfig = loadGatewayConfig(withSampleSecretFiles(gateway.vars, gateway.files), { dotenv: false });
    const port = (container: typeof poller.container, name: string) =>
      (container as unknown as { ports: { name: string; containerPort: number }[] }).ports.find((p) => p.name === name)?.containerPort;
    expect(port(poller.container, 'health')).toBe(pollerConfig.healthPort);
    expect(port(gateway.container, 'http')).toBe(gatewayConfig.port);
  });
});

test('the base alone is not deployable: it leaves REDIS_URL to a component or overlay', () => {
  const { vars, files } = environmentOf(rendered(KUSTOMIZATIONS.base), 'poller');
  expect(() => loadPollerConfig(withSampleSecretFiles(vars, files), { dotenv: false })).toThrow(/REDIS_URL: required/);
});

test('commented-out examples in the .env files name real variables', () => {
  const readers: [string, EnvSpec[]][] = [
    ['common.env', [pollerEnvSpec, gatewayEnvSpec]],
    ['poller.env', [pollerEnvSpec]],
    ['gateway.env', [gatewayEnvSpec]],
  ];
  for (const [file, specs] of readers) {
    const text = readFileSync(join(KUSTOMIZATIONS.base, file), 'utf8');
    const names = [...text.matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]!);
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) for (const spec of specs) expect([file, name, name in spec]).toEqual([file, name, true]);
  }
});

describe('drift is caught', () => {
  const pollerVars = () => environmentOf(rendered(KUSTOMIZATIONS.trial), 'poller');

  test('a misspelt variable', () => {
    const { vars } = pollerVars();
    expect(envSpecProblems({ ...vars, FETCH_INTERVALL: '1000' }, pollerEnvSpec as EnvSpec)).toEqual([
      'FETCH_INTERVALL: set by the manifests but not read by the service',
    ]);
  });

  test('a required variable left out', () => {
    const { MATOMO_URL: _dropped, ...vars } = pollerVars().vars;
    expect(envSpecProblems(vars, pollerEnvSpec as EnvSpec)).toEqual(['MATOMO_URL: required by the service but not set']);
  });

  test('a variable set both plainly and as a file', () => {
    const { vars } = pollerVars();
    expect(envSpecProblems({ ...vars, MATOMO_TOKEN: 'x' }, pollerEnvSpec as EnvSpec)).toEqual([
      'MATOMO_TOKEN_FILE: set together with MATOMO_TOKEN; the service refuses both',
    ]);
  });

  test('a *_FILE path where no Secret is mounted', () => {
    const { workload, container, vars } = pollerVars();
    const moved = { ...vars, MATOMO_TOKEN_FILE: '/run/secrets/elsewhere/matomo-token' };
    expect(secretFiles(podSpecOf(workload), container, moved).problems).toEqual([
      'MATOMO_TOKEN_FILE=/run/secrets/elsewhere/matomo-token: no Secret item is mounted at that path',
    ]);
  });

  test('a ConfigMap value the service would refuse at start-up', () => {
    const { vars, files } = pollerVars();
    const env = withSampleSecretFiles({ ...vars, LEASE_TTL: '5s' }, files);
    expect(() => loadPollerConfig(env, { dotenv: false })).toThrow(/LEASE_TTL/);
  });

  test('a Secret put into the environment instead of mounted', () => {
    const objects = rendered(KUSTOMIZATIONS.trial);
    const container = structuredClone(containerOf(find(objects, 'Deployment', 'matomo-live-poller'), 'poller'));
    container.envFrom = [...(container.envFrom ?? []), { secretRef: { name: 'matomo-live-poller-secrets' } }];
    expect(containerEnvironment(objects, container).problems).toEqual([
      'envFrom secret matomo-live-poller-secrets: secrets are mounted as files (*_FILE), not put in the environment',
    ]);
  });
});

// ---- one config source: docker-compose.yml and the ConfigMaps against the specs ----

describe('one config source', () => {
  const compose = parseDocument(readFileSync(join(REPO_ROOT, 'docker-compose.yml'), 'utf8')).toJSON() as {
    services: Record<string, { environment?: Record<string, string> }>;
  };

  /**
   * Variables docker-compose.yml deliberately does not pass, or passes with a
   * fixed value, and why. Every other variable of a spec must reach the
   * container as `NAME: ${NAME…}`.
   */
  const COMPOSE_EXCEPTIONS: Record<ServiceName, Record<string, string>> = {
    poller: {
      POLLER_HEALTH_PORT: "fixed: the image's HEALTHCHECK asks 8081",
      LOG_PRETTY: 'not passed: pino-pretty is not in the images (pipe the logs through it)',
    },
    gateway: {
      PORT: "fixed: nginx's upstream and the image's HEALTHCHECK use 8080",
      HOST: 'not passed: nginx reaches the replicas on every interface of their containers',
      SSL_KEY:
        'not passed: TLS ends at nginx (docker-compose.tls.yml), which proxies plain http to the gateways on the private ' +
        "compose network; a gateway serving https there would break nginx's upstream (outside compose, SSL_KEY/SSL_CERT work)",
      SSL_CERT: 'not passed: as SSL_KEY',
      LOG_PRETTY: 'not passed: pino-pretty is not in the images (pipe the logs through it)',
    },
  };

  /**
   * Variables the Kubernetes manifests neither set nor show as a commented
   * example, and why.
   */
  const REDIS_SECRETS = {
    REDIS_PASSWORD: 'a Secret mount plus REDIS_PASSWORD_FILE (components/redis-sentinel, components/redis-cluster)',
    REDIS_SENTINEL_PASSWORD: 'a Secret mount plus REDIS_SENTINEL_PASSWORD_FILE (components/redis-sentinel)',
  };
  const DEMO = { MATOMO_LIVE_DEMO: 'the demo runs in compose (.env.example) and npm run demo, never in a cluster' };
  const K8S_EXCEPTIONS: Record<ServiceName, Record<string, string>> = {
    poller: { ...REDIS_SECRETS, ...DEMO },
    gateway: {
      ...REDIS_SECRETS,
      ...DEMO,
      HOST: 'pods listen on all interfaces for the Service and the probes',
      SSL_KEY: 'TLS ends at the ingress or Gateway',
      SSL_CERT: 'TLS ends at the ingress or Gateway',
      JWT_SECRET: 'a Secret mount plus JWT_SECRET_FILE, patched in as docs/KUBERNETES.md shows',
      JWT_PUBLIC_KEY: 'as JWT_SECRET (JWT_PUBLIC_KEY_FILE)',
      JWT_JWKS: 'as JWT_SECRET (JWT_JWKS_FILE)',
    },
  };

  /** Problems of one compose service's environment against its spec. */
  function composeProblems(environment: Record<string, string>, spec: EnvSpec, exceptions: Record<string, string>): string[] {
    const problems: string[] = [];
    for (const name of Object.keys(environment)) {
      const base = name.endsWith('_FILE') ? name.slice(0, -'_FILE'.length) : name;
      if (!(base in spec)) problems.push(`${name}: passed by docker-compose.yml but not read by the service`);
    }
    for (const name of Object.keys(spec)) {
      if (name in exceptions) continue;
      const value = environment[name];
      if (value === undefined) problems.push(`${name}: cannot be set through docker-compose.yml`);
      else if (!String(value).includes(`\${${name}`))
        problems.push(`${name}: docker-compose.yml sets "${value}" instead of passing \${${name}}`);
      if (FILE_VARIABLES.includes(name) && environment[`${name}_FILE`] === undefined)
        problems.push(`${name}_FILE: cannot be set through docker-compose.yml`);
    }
    return problems;
  }

  /** Names the env files of the base set or show commented out (NAME or NAME_FILE), plus what the trial renders. */
  function k8sMentioned(service: ServiceName): Set<string> {
    const names = new Set(Object.keys(environmentOf(rendered(KUSTOMIZATIONS.trial), service).vars));
    for (const file of ['common.env', `${service}.env`]) {
      const text = readFileSync(join(KUSTOMIZATIONS.base, file), 'utf8');
      for (const match of text.matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=/gm)) names.add(match[1]!);
    }
    return new Set([...names].map((name) => (name.endsWith('_FILE') ? name.slice(0, -'_FILE'.length) : name)));
  }

  test.each(Object.keys(SERVICES) as ServiceName[])('docker-compose.yml passes every %s variable a user may set', (service) => {
    const environment = compose.services[service]?.environment ?? {};
    expect(composeProblems(environment, SERVICES[service].spec, COMPOSE_EXCEPTIONS[service])).toEqual([]);
  });

  test.each(Object.keys(SERVICES) as ServiceName[])('the Kubernetes base sets or shows every %s variable', (service) => {
    const mentioned = k8sMentioned(service);
    const missing = Object.keys(SERVICES[service].spec).filter((name) => !mentioned.has(name) && !(name in K8S_EXCEPTIONS[service]));
    expect(missing).toEqual([]);
  });

  test('exceptions name real variables', () => {
    for (const service of Object.keys(SERVICES) as ServiceName[]) {
      for (const name of [...Object.keys(COMPOSE_EXCEPTIONS[service]), ...Object.keys(K8S_EXCEPTIONS[service])]) {
        expect([service, name, name in SERVICES[service].spec]).toEqual([service, name, true]);
      }
    }
  });

  describe('drift is caught', () => {
    test('a variable compose forgets, one it hard-codes, and one it invents', () => {
      const { MAX_PAYLOAD: _forgotten, ...environment } = compose.services.gateway!.environment!;
      expect(
        composeProblems(
          { ...environment, CLIENT_MESSAGE_RATE: '10', MAX_PAYLOADS: '1' },
          gatewayEnvSpec as EnvSpec,
          COMPOSE_EXCEPTIONS.gateway,
        ),
      ).toEqual([
        'MAX_PAYLOADS: passed by docker-compose.yml but not read by the service',
        'MAX_PAYLOAD: cannot be set through docker-compose.yml',
        'CLIENT_MESSAGE_RATE: docker-compose.yml sets "10" instead of passing ${CLIENT_MESSAGE_RATE}',
      ]);
    });
  });
});
