/**
 * The two NGINX site files, for real, with the installed nginx binary (the
 * version Debian ships, 1.22, the oldest these files promise to work with):
 * matomo-live.conf (plain http) and matomo-live-tls.conf (https and wss on
 * 443, http redirected) in front of an in-process gateway. Only what the host
 * cannot have is rewritten: the upstream address, the listen ports, the
 * certificate, log and settings paths. The compose stack runs the same files
 * in the official (or stand-in) nginx image: deploy/test/docker-stack.e2e.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gatewayConfigFrom, MemorySnapshots, startGateway, type RunningGateway } from '@matomo-live/test-support/gateway';
import { REPO_ROOT } from '@matomo-live/test-support/processes';
import { selfSignedPair, type SelfSignedPair } from '@matomo-live/test-support/tls';
import { TestClient } from '@matomo-live/test-support/ws-client';
import { missingForNginx, NGINX_DIR, PLAIN_SITE, startSiteNginx, TLS_SITE, type SiteNginx, SITE_CONTENT } from './site-nginx';

const TOKEN = 'nginx-site-test-token';

const missing = missingForNginx();
if (missing.length > 0) {
  console.warn(
    `\n*** SKIPPED the nginx site tests of deploy/test/nginx-site.test.ts: ${missing.join(' and ')} not on PATH ` +
      `(apt-get install nginx-light openssl). The site files are still run by the Docker stack test where Docker runs.\n`,
  );
}
const describeWithNginx = missing.length === 0 ? describe : describe.skip;

/** The blocks of a site file with comments and blank lines gone, by their opening line. */
function blocks(site: string): Map<string, string> {
  const lines = site
    .split('\n')
    .map((line) => line.replace(/#.*$/, '').trim())
    .filter(Boolean);
  const found = new Map<string, string>();
  lines.forEach((line, start) => {
    if (!line.endsWith('{')) return;
    let depth = 0;
    for (let end = start; end < lines.length; end++) {
      depth += (lines[end]!.match(/{/g) ?? []).length - (lines[end]!.match(/}/g) ?? []).length;
      if (depth === 0) {
        found.set(`${line}#${found.size}`, lines.slice(start, end + 1).join('\n'));
        return;
      }
    }
  });
  return found;
}
const block = (site: string, opening: string) => [...blocks(site).entries()].filter(([key]) => key.startsWith(opening)).map(([, b]) => b);

describe('the TLS site file stays the plain one plus TLS', () => {
  test('same upstream, connection map and log format', () => {
    for (const opening of ['upstream matomo_live_gateways {', 'map $http_upgrade $matomo_live_connection {']) {
      expect(block(TLS_SITE, opening)).toEqual(block(PLAIN_SITE, opening));
    }
    const logFormat = (site: string) => /log_format matomo_live[^;]+;/.exec(site)?.[0];
    expect(logFormat(TLS_SITE)).toBe(logFormat(PLAIN_SITE));
    expect(PLAIN_SITE.match(/^\s*server gateway:8080 .*;$/gm)).toHaveLength(1);
  });

  test('the https server proxies exactly as the plain one does', () => {
    const proxied = (site: string) => block(site, 'location / {').filter((b) => b.includes('proxy_pass'));
    expect(proxied(TLS_SITE)).toEqual(proxied(PLAIN_SITE));
    expect(proxied(PLAIN_SITE)).toHaveLength(1);
    for (const opening of ['location = /healthz {', 'location = /metrics {', 'location = /debug {']) {
      expect(block(TLS_SITE, opening)).toEqual(expect.arrayContaining(block(PLAIN_SITE, opening)));
    }
  });
});

describe('the shipped files keep their promises', () => {
  test('matomo-live.conf: one `server gateway:8080 …;` line, `listen 80`, no absolute path but /var/log/nginx/', () => {
    const directives = PLAIN_SITE.replace(/#.*$/gm, '');
    expect(directives.match(/^\s*server gateway:8080[^;]*;$/gm)).toHaveLength(1);
    expect(directives).toMatch(/^\s*listen 80 default_server;$/m);
    expect((directives.match(/(?<![\w$:/])\/[\w./*-]+/g) ?? []).filter((path) => !path.startsWith('/var/log/nginx/'))).toEqual([
      '/healthz',
      '/metrics',
      '/debug',
    ]);
  });

  test('a storm or a drain never empties the pool, and an upgrade refused with 503 is retried on another replica', () => {
    for (const site of [PLAIN_SITE, TLS_SITE]) {
      const directives = site.replace(/#.*$/gm, '');
      expect(directives).toMatch(/server gateway:8080 max_fails=0;/);
      expect(directives).toMatch(/proxy_next_upstream error timeout http_502 http_503;/);
      expect(directives).toMatch(/proxy_next_upstream_tries 3;/);
      expect(directives).toMatch(/proxy_next_upstream_timeout 5s;/);
    }
  });

  test('nginx.conf is sized for WebSockets: 16384 connections per worker, with the descriptors for them', () => {
    const main = readFileSync(join(NGINX_DIR, 'nginx.conf'), 'utf8').replace(/#.*$/gm, '');
    const connections = Number(/worker_connections (\d+);/.exec(main)?.[1]);
    const files = Number(/worker_rlimit_nofile (\d+);/.exec(main)?.[1]);
    expect(connections).toBeGreaterThanOrEqual(16_384);
    // worker_connections already counts both sides of a proxied WebSocket: one descriptor per connection.
    expect(files).toBeGreaterThanOrEqual(connections);
    // No more than compose grants by default (NOFILE_LIMIT), or nginx logs a setrlimit failure at every start.
    expect(files).toBeLessThanOrEqual(
      Number(/nofile: \$\{NOFILE_LIMIT:-(\d+)\}/.exec(readFileSync(join(REPO_ROOT, 'docker-compose.yml'), 'utf8'))?.[1]),
    );
    expect(main).toMatch(/include \/etc\/nginx\/conf\.d\/\*\.conf;/);
    // No `user`: each image's compiled-in default applies (nginx in the official image, nobody in Debian's).
    expect(main).not.toMatch(/^\s*user\s/m);
  });
});

describe('tls-settings.sh', () => {
  const run = (env: Record<string, string>) => {
    const dir = mkdtempSync(join(tmpdir(), 'tls-settings-'));
    const file = join(dir, 'sub', 'tls-env.conf');
    const result = spawnSync('sh', [join(NGINX_DIR, 'tls-settings.sh'), file], {
      env: { PATH: process.env.PATH, ...env },
      encoding: 'utf8',
    });
    const text = result.status === 0 ? readFileSync(file, 'utf8') : '';
    rmSync(dir, { recursive: true, force: true });
    return { status: result.status, stderr: result.stderr, text };
  };

  test('HTTPS_PORT becomes the redirect port (none for 443), HSTS is off unless HSTS_MAX_AGE is set', () => {
    expect(run({}).text).toContain('map $host $matomo_live_https_port { default ""; }');
    expect(run({}).text).toContain('map $host $matomo_live_hsts { default ""; }');
    expect(run({ HTTPS_PORT: '8443' }).text).toContain('{ default ":8443"; }');
    expect(run({ HTTPS_PORT: '127.0.0.1:9443' }).text).toContain('{ default ":9443"; }');
    expect(run({ HSTS_MAX_AGE: '31536000' }).text).toContain('map $host $matomo_live_hsts { default "max-age=31536000"; }');
  });

  test('a value that is not a number exits 78 naming the variable', () => {
    expect(run({ HTTPS_PORT: 'https' })).toMatchObject({ status: 78, stderr: expect.stringContaining('HTTPS_PORT=https') });
    expect(run({ HSTS_MAX_AGE: '1y' })).toMatchObject({ status: 78, stderr: expect.stringContaining('HSTS_MAX_AGE=1y') });
  });
});

describeWithNginx('the site files in a real nginx', () => {
  let gateway: RunningGateway;
  let pair: SelfSignedPair;
  const stops: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    const feed = new MemorySnapshots();
    await feed.publishContent(1, SITE_CONTENT, 7);
    gateway = await startGateway(
      gatewayConfigFrom({ PORT: '0', HOST: '127.0.0.1', VALID_TOKENS: TOKEN, DASHBOARD_DIR: 'off', TRUST_PROXY: 'loopback' }),
      { feed },
    );
    pair = selfSignedPair();
  });

  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
  });

  afterAll(async () => {
    await gateway?.stop();
    if (pair) rmSync(pair.dir, { recursive: true, force: true });
  });

  /** nginx with one site file, rewritten for this host; the TLS settings written by tls-settings.sh from `env`. */
  async function startNginx(site: 'plain' | 'tls', env: Record<string, string> = {}): Promise<SiteNginx> {
    const nginx = await startSiteNginx({ site, upstreamPort: gateway.port, certDir: pair.dir, env });
    stops.push(nginx.stop);
    return nginx;
  }

  /** A GET over https trusting the self-signed pair; resolves with status and headers. */
  function httpsGetTrusting(url: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined> }> {
    return new Promise((resolve, reject) => {
      httpsGet(url, { ca: pair.cert }, (response) => {
        response.resume();
        resolve({ status: response.statusCode ?? 0, headers: response.headers });
      }).on('error', reject);
    });
  }

  test('matomo-live.conf: WebSockets at / through to the gateway, /healthz answered by nginx, /metrics kept inside', async () => {
    const nginx = await startNginx('plain');
    const client = TestClient.connect(`ws://127.0.0.1:${nginx.httpPort}/?token=${TOKEN}`);
    expect(JSON.parse((await client.nextMessages(1))[0]!)).toMatchObject({ site: 1, seq: 7 });
    client.close();
    expect((await fetch(`http://127.0.0.1:${nginx.httpPort}/healthz`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${nginx.httpPort}/metrics`)).status).toBe(404);
  });

  test('matomo-live-tls.conf: wss through to the gateway, http redirected to the same URL over https, no HSTS by default', async () => {
    const nginx = await startNginx('tls');
    const client = TestClient.connect(`wss://127.0.0.1:${nginx.httpsPort}/ws`, {
      protocols: ['matomo-live.v1', `token.${TOKEN}`],
      ca: pair.cert,
    });
    expect(JSON.parse((await client.nextMessages(1))[0]!)).toMatchObject({ site: 1, seq: 7 });
    expect(client.ws.protocol).toBe('matomo-live.v1');
    client.close();

    const redirect = await fetch(`http://127.0.0.1:${nginx.httpPort}/dashboard/?site=1`, { redirect: 'manual' });
    expect(redirect.status).toBe(308);
    expect(redirect.headers.get('location')).toBe(`https://127.0.0.1:${nginx.httpsPort}/dashboard/?site=1`);
    // compose's health check asks nginx on port 80: answered there, not redirected.
    expect((await fetch(`http://127.0.0.1:${nginx.httpPort}/healthz`)).status).toBe(200);

    const health = await httpsGetTrusting(`https://127.0.0.1:${nginx.httpsPort}/healthz`);
    expect(health.status).toBe(200);
    expect(health.headers['strict-transport-security']).toBeUndefined();
    expect((await httpsGetTrusting(`https://127.0.0.1:${nginx.httpsPort}/metrics`)).status).toBe(404);
  });

  test('matomo-live-tls.conf: HSTS_MAX_AGE turns HSTS on; HTTPS_PORT=443 redirects without a port', async () => {
    const nginx = await startNginx('tls', { HSTS_MAX_AGE: '600', HTTPS_PORT: '443' });
    const readyz = await httpsGetTrusting(`https://127.0.0.1:${nginx.httpsPort}/readyz`);
    expect(readyz.headers['strict-transport-security']).toBe('max-age=600');
    const redirect = await fetch(`http://127.0.0.1:${nginx.httpPort}/?site=2`, { redirect: 'manual' });
    expect(redirect.headers.get('location')).toBe('https://127.0.0.1/?site=2');
  });
});
