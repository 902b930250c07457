/**
 * docker-compose.yml, docker-compose.tls.yml, docker-compose.sentinel.yml and .env.example as a newcomer
 * meets them, without a Docker engine: `docker compose config` interpolates
 * exactly as `docker compose up` does before it starts anything. With nothing
 * configured compose must stop at once naming what to set; .env.example as
 * shipped must be the demo; a cold build must build each image once. The
 * stack itself runs in deploy/test/docker-stack.e2e.test.ts.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { loadGatewayConfig, loadPollerConfig } from '@matomo-live/shared';
import { composeCli, REPO_ROOT } from './docker-cli';

interface ComposeService {
  image?: string;
  build?: unknown;
  profiles?: string[];
  pull_policy?: string;
  environment?: Record<string, string>;
  ports?: unknown[];
  volumes?: string[];
}
const read = (file: string) => readFileSync(join(REPO_ROOT, file), 'utf8');
const compose = parse(read('docker-compose.yml')) as { services: Record<string, ComposeService> };
const tlsOverride = parse(read('docker-compose.tls.yml')) as { services: Record<string, ComposeService> };
const envExample = read('.env.example');
const REQUIRED = { MATOMO_URL: ':?', MATOMO_TOKEN: '?', VALID_TOKENS: '?', REDIS_PASSWORD: ':?' } as const;

/** NAME=value lines of .env.example, the commented-out examples too. */
function envExampleEntries(): Array<{ name: string; value: string; commented: boolean }> {
  return [...envExample.matchAll(/^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$/gm)].map((m) => ({
    name: m[2]!,
    value: m[3]!,
    commented: m[1] !== undefined,
  }));
}

describe('docker-compose.yml', () => {
  test('builds each image once: only poller and gateway have a build; the simulator reuses the poller image without pulling it', () => {
    const built = Object.entries(compose.services)
      .filter(([, service]) => service.build !== undefined)
      .map(([name]) => name);
    expect(built.sort()).toEqual(['gateway', 'poller']);
    const sim = compose.services['matomo-sim']!;
    expect(sim.image).toBe(compose.services.poller!.image);
    expect(sim.pull_policy).toBe('never');
    expect(sim.profiles).toEqual(['demo']);
  });

  test.each(Object.entries(REQUIRED))(
    '%s is required: unset, compose stops with a message naming it and how to get the demo',
    (name, operator) => {
      const service = name === 'VALID_TOKENS' ? 'gateway' : 'poller';
      const value = compose.services[service]!.environment![name]!;
      expect(value.startsWith(`\${${name}${operator}${name} is not set - `)).toBe(true);
      expect(value).toContain('cp .env.example .env');
    },
  );
});

describe('.env.example', () => {
  const entries = envExampleEntries();
  const set = Object.fromEntries(entries.filter((e) => !e.commented).map((e) => [e.name, e.value]));

  test('as shipped runs the demo: the demo profile, the simulator and its token, a demo client token labelled public', () => {
    expect(set.COMPOSE_PROFILES).toBe('demo');
    expect(set.MATOMO_URL).toBe('http://matomo-sim:8090/');
    expect(compose.services['matomo-sim']!.environment!.SIM_TOKEN).toBe(`\${MATOMO_TOKEN:-${set.MATOMO_TOKEN}}`);
    expect(set.VALID_TOKENS).toMatch(/public/);
    expect(set.REDIS_PASSWORD).toMatch(/public/);
    for (const name of Object.keys(REQUIRED)) expect(set[name]).toBeTruthy();
  });

  test('names only variables the compose files read (or compose itself)', () => {
    const composeText = read('docker-compose.yml') + read('docker-compose.tls.yml');
    const unknown = entries.map((e) => e.name).filter((name) => !name.startsWith('COMPOSE_') && !composeText.includes(`\${${name}`));
    expect(unknown).toEqual([]);
  });
});

describe('shipped defaults: a password for Redis, a persisted Redis, one trusted proxy', () => {
  test('redis requires REDIS_PASSWORD, keeps an append-only file on a volume; the gateways trust only the nginx service', () => {
    const redis = compose.services.redis! as ComposeService & { command?: string[] };
    expect(redis.environment!.REDIS_PASSWORD).toBe(compose.services.poller!.environment!.REDIS_PASSWORD);
    expect(redis.command!.join(' ')).toMatch(/--requirepass "\$\$REDIS_PASSWORD".*--appendonly yes/);
    expect(redis.volumes).toEqual([{ type: 'volume', source: 'redis-data', target: '/data', volume: { nocopy: true } }]);
    // The one-shot that hands the volume to Redis's uid runs first, with CHOWN as its only capability.
    const owner = compose.services['redis-data-owner']!;
    expect(owner.volumes).toEqual(['redis-data:/data']);
    expect((owner as { cap_add?: string[] }).cap_add).toEqual(['CHOWN']);
    expect((redis as { depends_on?: unknown }).depends_on).toEqual({ 'redis-data-owner': { condition: 'service_completed_successfully' } });
    expect(compose.services.gateway!.environment!.TRUST_PROXY).toBe('${TRUST_PROXY:-nginx}');
  });

  test('no shipped file, comments included, suggests trusting whole private ranges', () => {
    const files = execFileSync('git', ['ls-files', 'deploy', 'docs', '.env.example', 'docker-compose*.yml', 'README.md'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    })
      .split('\n')
      .filter((file) => file && !file.startsWith('deploy/test/'));
    expect(files).toEqual(expect.arrayContaining(['docker-compose.yml', '.env.example', 'deploy/k8s/base/gateway.env']));
    const offending = files.filter((file) => /\b(10\.0\.0\.0\/8|172\.16\.0\.0\/12|192\.168\.0\.0\/16)\b/.test(read(file)));
    expect(offending).toEqual([]);
  });
});

describe('docker-compose.tls.yml', () => {
  test('swaps the plain site for the TLS site at the same path, mounts the certificates, publishes 443', () => {
    const nginx = tlsOverride.services.nginx!;
    const base = compose.services.nginx!;
    const target = (volume: string) => volume.replace(/\$\{[^}]*\}/g, 'SOURCE').split(':')[1];
    const siteMount = nginx.volumes!.find((v) => v.includes('matomo-live-tls.conf'))!;
    expect(target(siteMount)).toBe(target(base.volumes!.find((v) => v.includes('matomo-live.conf'))!));
    expect(nginx.volumes!.map(target)).toContain('/etc/nginx/certs');
    expect(nginx.ports).toEqual(['${HTTPS_PORT:-8443}:443']);
    expect(nginx.environment!.HTTPS_PORT).toBe('${HTTPS_PORT:-8443}');
  });
});

const cli = composeCli();
if (!cli)
  console.warn(
    '\n*** SKIPPED the compose CLI checks of deploy/test/compose-file.test.ts: neither `docker compose` nor `docker-compose` is installed\n',
  );
const describeWithCli = cli ? describe : describe.skip;

describeWithCli('the compose CLI on these files (no engine needed)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'compose-file-'));
    writeFileSync(join(dir, 'empty.env'), '');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** `compose --env-file FILE -f … config` with only PATH (and HOME) from this environment. */
  const config = (envFile: string, files = ['docker-compose.yml'], env: Record<string, string> = {}) => {
    const [command, ...prefix] = cli!;
    const result = spawnSync(
      command!,
      [...prefix, '--env-file', envFile, ...files.flatMap((f) => ['-f', f]), '-p', 'matomo-live-config-test', 'config'],
      { cwd: REPO_ROOT, encoding: 'utf8', timeout: 30_000, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env } },
    );
    return { status: result.status, output: `${result.stdout}${result.stderr}` };
  };

  test('nothing configured: stops at once, naming MATOMO_URL, MATOMO_TOKEN, VALID_TOKENS and REDIS_PASSWORD and the demo command', () => {
    const result = config(join(dir, 'empty.env'));
    expect(result.status).not.toBe(0);
    // Compose names the first variable it misses (which one depends on its version); each message names all four.
    expect(result.output).toMatch(
      /(MATOMO_URL|REDIS_PASSWORD) is not set - for your Matomo set MATOMO_URL, MATOMO_TOKEN, VALID_TOKENS and REDIS_PASSWORD\b.*; for the demo run cp \.env\.example \.env/,
    );
  });

  test('an existing .env without REDIS_PASSWORD (an upgrade): REDIS_PASSWORD is named', () => {
    const result = config(join(dir, 'empty.env'), undefined, {
      MATOMO_URL: 'https://matomo.example.org/',
      MATOMO_TOKEN: 'x',
      VALID_TOKENS: 'a-long-screen-token',
    });
    expect(result.status).not.toBe(0);
    expect(result.output).toContain('REDIS_PASSWORD is not set');
  });

  test('only VALID_TOKENS missing: that is the one named', () => {
    const result = config(join(dir, 'empty.env'), undefined, {
      MATOMO_URL: 'https://matomo.example.org/',
      MATOMO_TOKEN: 'x',
      REDIS_PASSWORD: 'p',
    });
    expect(result.status).not.toBe(0);
    expect(result.output).toContain('VALID_TOKENS is not set - the tokens screens connect with');
  });

  test('.env.example as shipped: valid, with the simulator', () => {
    const result = config(join(REPO_ROOT, '.env.example'));
    expect(result).toMatchObject({ status: 0 });
    const services = (parse(result.output) as { services: Record<string, { profiles?: string[] }> }).services;
    // Compose v1 lists services of inactive profiles too (v2 leaves them out): count those the demo profile runs.
    const running = Object.entries(services).filter(([, s]) => s.profiles === undefined || s.profiles.includes('demo'));
    expect(running.map(([name]) => name).sort()).toEqual(['gateway', 'matomo-sim', 'nginx', 'poller', 'redis', 'redis-data-owner']);
  });

  test('empty MATOMO_TOKEN and VALID_TOKENS are accepted (for *_FILE and JWT_* users)', () => {
    const result = config(join(dir, 'empty.env'), undefined, {
      MATOMO_URL: 'https://m.example.org/',
      MATOMO_TOKEN: '',
      VALID_TOKENS: '',
      REDIS_PASSWORD: 'p',
    });
    expect(result.status).toBe(0);
  });

  /** The merged services of a config run that must succeed. */
  const services = (result: { status: number | null; output: string }) => {
    expect(result).toMatchObject({ status: 0 });
    return (parse(result.output) as { services: Record<string, ComposeService & { depends_on?: Record<string, unknown> }> }).services;
  };
  const environment = (service: ComposeService | undefined): Record<string, string> =>
    Object.fromEntries(Object.entries(service?.environment ?? {}).map(([k, v]) => [k, v ?? '']));

  test('with docker-compose.sentinel.yml: a replica and three sentinels, and both services in Sentinel mode', () => {
    const merged = services(config(join(REPO_ROOT, '.env.example'), ['docker-compose.yml', 'docker-compose.sentinel.yml']));
    expect(Object.keys(merged)).toEqual(expect.arrayContaining(['redis', 'redis-replica', 'sentinel-1', 'sentinel-2', 'sentinel-3']));
    for (const config of [
      loadPollerConfig(environment(merged.poller), { dotenv: false }).redis,
      loadGatewayConfig(environment(merged.gateway), { dotenv: false }).redis,
    ]) {
      expect(config).toMatchObject({
        mode: 'sentinel',
        masterName: 'mymaster',
        sentinels: [1, 2, 3].map((i) => ({ host: `sentinel-${i}`, port: 26379 })),
      });
    }
    for (const name of ['poller', 'gateway']) {
      expect([name, Object.keys(merged[name]!.depends_on ?? {}).sort()]).toEqual([
        name,
        ['redis', 'sentinel-1', 'sentinel-2', 'sentinel-3'],
      ]);
    }
  });

  test('with docker-compose.sentinel.yml: one REDIS_PASSWORD for the data nodes, the sentinels and the services', () => {
    const merged = services(
      config(join(REPO_ROOT, '.env.example'), ['docker-compose.yml', 'docker-compose.sentinel.yml'], {
        REDIS_PASSWORD: 'data-pw',
        REDIS_SENTINEL_PASSWORD: 'sentinel-pw',
      }),
    );
    for (const name of ['redis', 'redis-replica', 'sentinel-1'])
      expect([name, merged[name]!.environment?.REDIS_PASSWORD]).toEqual([name, 'data-pw']);
    expect(merged['sentinel-2']!.environment?.REDIS_SENTINEL_PASSWORD).toBe('sentinel-pw');
    expect(loadPollerConfig(environment(merged.poller), { dotenv: false }).redis).toMatchObject({
      password: 'data-pw',
      sentinelPassword: 'sentinel-pw',
    });
  });

  test('the base file keeps its own redis (REDIS_URL); REDIS_URL= with REDIS_CLUSTER_NODES points the services at a cluster', () => {
    const base = services(config(join(REPO_ROOT, '.env.example')));
    expect(loadGatewayConfig(environment(base.gateway), { dotenv: false }).redis).toMatchObject({
      mode: 'single',
      url: 'redis://redis:6379',
    });
    const cluster = services(config(join(REPO_ROOT, '.env.example'), undefined, { REDIS_URL: '', REDIS_CLUSTER_NODES: 'c1:7000,c2:7000' }));
    expect(loadPollerConfig(environment(cluster.poller), { dotenv: false }).redis).toMatchObject({ mode: 'cluster' });
  });

  test('with docker-compose.tls.yml: the TLS site replaces the plain one, both ports published', () => {
    const result = config(join(REPO_ROOT, '.env.example'), ['docker-compose.yml', 'docker-compose.tls.yml']);
    expect(result.status).toBe(0);
    const nginx = (parse(result.output) as { services: { nginx: { volumes: unknown[]; ports: unknown[] } } }).services.nginx;
    const text = JSON.stringify(nginx);
    expect(text).toContain('matomo-live-tls.conf');
    expect(text).not.toContain('matomo-live.conf"');
    expect(nginx.ports).toHaveLength(2);
  });
});
