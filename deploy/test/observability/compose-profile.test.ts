// The compose profile "observability": Prometheus and Grafana only when the
// profile is asked for, official images by default with override variables,
// the rules and the dashboard mounted where prometheus.yml and the Grafana
// provisioning look for them, and the scrape targets on the ports the
// gateway and the poller serve. `promtool check config` validates
// prometheus.yml with the rules (skipped loudly without promtool), and the
// compose CLI renders the profile when one is installed.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { parse } from 'yaml';
import { composeCli } from '../docker-cli';
import { OBSERVABILITY_DIR, REPO_ROOT } from './metric-catalog';

interface Service {
  image?: string;
  profiles?: string[];
  volumes?: string[];
  ports?: string[];
  environment?: Record<string, string>;
  expose?: string[];
}
const compose = parse(readFileSync(join(REPO_ROOT, 'docker-compose.yml'), 'utf8')) as { services: Record<string, Service> };
const prometheusConfig = parse(readFileSync(join(OBSERVABILITY_DIR, 'prometheus.yml'), 'utf8')) as {
  rule_files: string[];
  scrape_configs: Array<{ job_name: string; metrics_path?: string; dns_sd_configs?: Array<{ names: string[]; port: number }> }>;
};

/** host path (relative to the repository) → container path, of a service's bind mounts. */
function mounts(service: Service): Map<string, string> {
  return new Map(
    (service.volumes ?? [])
      .filter((v) => v.startsWith('./'))
      .map((v) => {
        const [source, target] = v.split(':');
        return [posix.normalize(source!), target!];
      }),
  );
}

const prometheus = compose.services.prometheus!;
const grafana = compose.services.grafana!;

describe('docker-compose.yml profile "observability"', () => {
  test('Prometheus and Grafana run only with the profile, from the official images unless overridden', () => {
    expect(prometheus.profiles).toEqual(['observability']);
    expect(grafana.profiles).toEqual(['observability']);
    expect(prometheus.image).toBe('${PROMETHEUS_IMAGE:-prom/prometheus}');
    expect(grafana.image).toBe('${GRAFANA_IMAGE:-grafana/grafana}');
    // Published on the loopback interface only.
    for (const service of [prometheus, grafana]) for (const port of service.ports ?? []) expect(port).toMatch(/^"?127\.0\.0\.1:/);
  });

  test('Prometheus loads the rules from where prometheus.yml names them', () => {
    const m = mounts(prometheus);
    expect(m.get('deploy/observability/prometheus.yml')).toBe('/etc/prometheus/prometheus.yml');
    expect(prometheusConfig.rule_files).toEqual([m.get('deploy/observability/prometheus-rules.yml')]);
  });

  test('Prometheus scrapes every gateway replica and the poller on the ports they serve /metrics on', () => {
    const targets = prometheusConfig.scrape_configs.flatMap((job) =>
      (job.dns_sd_configs ?? []).flatMap((sd) => sd.names.map((name) => `${name}:${sd.port}${job.metrics_path ?? '/metrics'}`)),
    );
    const gatewayPort = compose.services.gateway!.environment!.PORT;
    const pollerPort = compose.services.poller!.environment!.POLLER_HEALTH_PORT;
    expect(targets.sort()).toEqual([`gateway:${gatewayPort}/metrics`, `poller:${pollerPort}/metrics`]);
  });

  test('Grafana gets the data source and the dashboard where its provisioning looks', () => {
    const m = mounts(grafana);
    const provisioning = m.get('deploy/observability/grafana/provisioning');
    expect(provisioning).toBe('/etc/grafana/provisioning');
    const providers = parse(readFileSync(join(OBSERVABILITY_DIR, 'grafana', 'provisioning', 'dashboards', 'matomo-live.yml'), 'utf8')) as {
      providers: Array<{ options: { path: string } }>;
    };
    const dashboardTarget = m.get('deploy/observability/grafana-dashboard.json');
    expect(dashboardTarget).toBeDefined();
    expect(posix.dirname(dashboardTarget!)).toBe(providers.providers[0]!.options.path);
    const datasources = parse(
      readFileSync(join(OBSERVABILITY_DIR, 'grafana', 'provisioning', 'datasources', 'prometheus.yml'), 'utf8'),
    ) as {
      datasources: Array<{ type: string; url: string; isDefault: boolean }>;
    };
    expect(datasources.datasources).toEqual([
      expect.objectContaining({ type: 'prometheus', url: 'http://prometheus:9090', isDefault: true }),
    ]);
  });
});

const promtool = [
  process.env.PROMTOOL,
  join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'matomo-live-ci', 'prometheus', 'usr', 'bin', 'promtool'),
].find((p): p is string => p !== undefined && p !== '' && existsSync(p));
if (promtool === undefined)
  console.warn('\n*** SKIPPED promtool check config of deploy/observability/prometheus.yml: no promtool (set PROMTOOL or run .ci/run)\n');
(promtool === undefined ? test.skip : test)('promtool check config: prometheus.yml with its rules is valid', () => {
  const dir = mkdtempSync(join(tmpdir(), 'prometheus-config-'));
  try {
    // The rules' path as the container sees it, pointed at the file here.
    const config = readFileSync(join(OBSERVABILITY_DIR, 'prometheus.yml'), 'utf8').replace(
      prometheusConfig.rule_files[0]!,
      join(OBSERVABILITY_DIR, 'prometheus-rules.yml'),
    );
    writeFileSync(join(dir, 'prometheus.yml'), config);
    const out = execFileSync(promtool!, ['check', 'config', join(dir, 'prometheus.yml')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(out).toContain('SUCCESS: 1 rule files found');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const cli = composeCli();
if (!cli)
  console.warn('\n*** SKIPPED `compose --profile observability config`: neither `docker compose` nor `docker-compose` is installed\n');
(cli ? test : test.skip)('the compose CLI renders the profile with Prometheus and Grafana, and leaves them out without it', () => {
  const [command, ...prefix] = cli!;
  const config = (...profile: string[]) => {
    const result = spawnSync(command!, [...prefix, '--env-file', '.env.example', ...profile, '-p', 'matomo-live-obs-test', 'config'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      timeout: 30_000,
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
    });
    expect(result.stderr).not.toMatch(/error/i);
    const services = (parse(result.stdout) as { services: Record<string, { profiles?: string[] }> }).services;
    // Compose v2 leaves inactive services out of `config`; v1 (Debian's docker-compose 1.29) lists them with their
    // profiles: count a service as rendered when it has no profile or one that is active here (.env.example: demo).
    const active = ['demo', ...profile.filter((p) => p !== '--profile')];
    return Object.entries(services)
      .filter(([, service]) => service.profiles === undefined || service.profiles.some((p) => active.includes(p)))
      .map(([name]) => name);
  };
  expect(config('--profile', 'observability')).toEqual(expect.arrayContaining(['prometheus', 'grafana', 'gateway', 'poller']));
  expect(config()).not.toContain('prometheus');
  expect(config()).not.toContain('grafana');
});
