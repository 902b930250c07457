import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeSnapshot } from '@matomo-live/shared';
import { gatewayConfigFrom } from '@matomo-live/test-support/gateway';
import { silentLogger } from '@matomo-live/test-support/logger';
import { TokenAuth } from '../../src/admission/token-auth';
import { FailedAuthLimiter } from '../../src/admission/failed-auth-limiter';
import { createHttpHandler } from '../../src/http/http-routes';
import { GatewayMetrics } from '../../src/metrics/gateway-metrics';
import { SnapshotHub } from '../../src/snapshots/snapshot-hub';
import { content, httpGet, TOKEN } from '../support/harness';

describe('the gateway’s plain HTTP routes', () => {
  const config = gatewayConfigFrom({ VALID_TOKENS: TOKEN, MATOMO_SITE_ID: '1' });
  const site = config.siteIds[0]!;
  let server: Server;
  let port: number;
  let ready: boolean;
  let hub: SnapshotHub;
  let metrics: GatewayMetrics;
  let dashboardDir: string;
  let failedAuth: FailedAuthLimiter;
  let now: number;

  beforeAll(() => {
    dashboardDir = mkdtempSync(join(tmpdir(), 'http-routes-'));
    writeFileSync(join(dashboardDir, 'index.html'), '<!doctype html><title>dashboard</title>');
  });

  afterAll(() => rmSync(dashboardDir, { recursive: true, force: true }));

  beforeEach(async () => {
    ready = false;
    hub = new SnapshotHub({ siteIds: config.siteIds, logger: silentLogger });
    metrics = new GatewayMetrics();
    const auth = new TokenAuth({ validTokens: config.validTokens, jwt: config.jwt });
    now = 0;
    failedAuth = new FailedAuthLimiter({ limit: 3, now: () => now });
    // The address a test says it comes from (a trusted proxy's X-Forwarded-For, as the gateway resolves it).
    const clientAddress = (req: { headers: Record<string, string | string[] | undefined> }) =>
      String(req.headers['x-test-client'] ?? '192.0.2.1');
    server = createServer(
      createHttpHandler({
        config,
        hub,
        auth,
        failedAuth,
        clientAddress,
        metrics,
        isReady: () => ready,
        dashboardDir,
        logger: silentLogger,
      }),
    );
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as { port: number }).port;
  });

  afterEach(async () => {
    server.close();
    await once(server, 'close');
  });

  it('answers liveness without Redis, and readiness with each site’s seq', async () => {
    expect((await httpGet(port, '/healthz')).status).toBe(200);
    const notReady = await httpGet(port, '/readyz');
    expect(notReady.status).toBe(503);
    expect(JSON.parse(notReady.body)).toEqual({ ready: false, sites: [{ site, seq: null }] });
    ready = true;
    hub.accept(site, encodeSnapshot(content(site, 2), 7, new Date()));
    const isReady = await httpGet(port, '/readyz');
    expect(isReady.status).toBe(200);
    expect(JSON.parse(isReady.body)).toEqual({ ready: true, sites: [{ site, seq: 7 }] });
  });

  it('serves the metrics registry', async () => {
    metrics.connections.inc();
    const response = await httpGet(port, '/metrics');
    expect(response.status).toBe(200);
    expect(response.body).toContain('matomo_live_gateway_');
  });

  it('shows the debug page only to a bearer token, never to one in the URL', async () => {
    hub.accept(site, encodeSnapshot(content(site, 1), 3, new Date()));
    expect((await httpGet(port, `/debug?token=${TOKEN}`)).status).toBe(401);
    const page = await httpGet(port, `/debug?site=${site}`, { Authorization: `Bearer ${TOKEN}` });
    expect(page.status).toBe(200);
    expect(page.body).toContain(`Site ${site}, seq 3`);
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    expect((await httpGet(port, '/debug?site=999', { Authorization: `Bearer ${TOKEN}` })).status).toBe(404);
    const failures = await metrics.authFailures.get();
    expect(failures.values.some((v) => String(v.labels.reason).startsWith('debug-') && v.value === 1)).toBe(true);
  });

  it('limits wrong /debug tokens per address: 429 with Retry-After for the rest of the minute, a valid token included', async () => {
    hub.accept(site, encodeSnapshot(content(site, 1), 3, new Date()));
    const attacker = { 'X-Test-Client': '198.51.100.7' };
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await httpGet(port, '/debug', { ...attacker, Authorization: `Bearer wrong-${i}` })).status);
    expect(statuses).toEqual([401, 401, 401, 429, 429, 429]);
    now = 45_000;
    const valid = await httpGet(port, '/debug', { ...attacker, Authorization: `Bearer ${TOKEN}` });
    expect(valid.status).toBe(429);
    expect(valid.headers['retry-after']).toBe('15');
    // No Authorization at all is not a wrong token; another address is unaffected.
    expect((await httpGet(port, '/debug', { 'X-Test-Client': '198.51.100.8' })).status).toBe(401);
    expect((await httpGet(port, '/debug', { 'X-Test-Client': '198.51.100.8', Authorization: `Bearer ${TOKEN}` })).status).toBe(200);
    expect(failedAuth.blockedFor('198.51.100.8')).toBeUndefined();
    now = 60_000;
    expect((await httpGet(port, '/debug', { ...attacker, Authorization: `Bearer ${TOKEN}` })).status).toBe(200);
    const refusals = (await metrics.authFailures.get()).values.find((v) => v.labels.reason === 'debug-failed-auth-limit');
    expect(refusals?.value).toBe(4);
  });

  it('serves the dashboard, redirects its bare path, and names the WebSocket endpoint', async () => {
    const redirect = await httpGet(port, '/dashboard');
    expect(redirect.status).toBe(301);
    expect(redirect.headers.location).toBe('/dashboard/');
    const page = await httpGet(port, '/dashboard/');
    expect(page.status).toBe(200);
    expect(page.body).toContain('<title>dashboard</title>');
    expect((await httpGet(port, '/')).status).toBe(426);
    expect((await httpGet(port, '/nothing-here')).status).toBe(404);
  });
});
