import { startHealthServer, type HealthServer } from '../src/health-server';
import type { PollerStatus } from '../src/poller';
import { PollerMetrics } from '../src/poller-metrics';

const status = (over: Partial<PollerStatus> = {}): PollerStatus => ({
  running: true,
  healthy: true,
  lastSuccessAt: '2024-07-04T16:43:37.000Z',
  lastAttemptAt: '2024-07-04T16:43:37.000Z',
  consecutiveFailures: 0,
  lastError: null,
  authBlocked: false,
  authBlockedReason: null,
  matomoClockOffsetSeconds: 0,
  nextAttemptAt: null,
  requests: 3,
  published: 1,
  sites: [
    {
      siteId: 1,
      leader: true,
      timezone: 'Europe/Paris',
      seq: 5,
      lastPublishedAt: null,
      lastError: null,
      summaryAgeSeconds: 12,
      todayAgeSeconds: 3,
      countersAgeSeconds: 0,
      failingParts: [{ part: 'summary', failures: 2, since: '2024-07-04T16:43:30.000Z', error: 'archiving lock' }],
      events: { enabled: true, cursorAfter: '2024-07-04T16:43:30.000Z', visits: 12, gaps: 0, capHits: 0, catchingUp: false },
    },
  ],
  ...over,
});

let server: HealthServer | undefined;
afterEach(() => server?.close());

async function get(path: string, method = 'GET'): Promise<{ status: number; body: any }> {
  const res = await fetch(`http://127.0.0.1:${server!.port}${path}`, { method });
  return { status: res.status, body: await res.json() };
}

describe('health endpoint', () => {
  it('/healthz answers the status with 200 while healthy', async () => {
    server = await startHealthServer({ port: 0, host: '127.0.0.1', status: () => status() });
    expect(await get('/healthz')).toEqual({ status: 200, body: status() });
  });

  it('/healthz answers 503 when the token is refused or polling fails for long', async () => {
    server = await startHealthServer({ port: 0, host: '127.0.0.1', status: () => status({ healthy: false, authBlocked: true }) });
    expect(await get('/healthz')).toMatchObject({ status: 503, body: { authBlocked: true } });
  });

  it('/readyz follows the poller and its dependencies', async () => {
    let redisReady = false;
    server = await startHealthServer({ port: 0, host: '127.0.0.1', status: () => status(), ready: () => redisReady });
    expect(await get('/readyz')).toEqual({ status: 503, body: { ready: false } });
    redisReady = true;
    expect(await get('/readyz')).toEqual({ status: 200, body: { ready: true } });
  });

  it('answers 404 for other paths and 405 for other methods', async () => {
    server = await startHealthServer({ port: 0, host: '127.0.0.1', status: () => status() });
    expect((await get('/nope')).status).toBe(404);
    expect((await get('/healthz', 'POST')).status).toBe(405);
  });

  it('/metrics serves the Prometheus text of the metrics it is given, and 404 without', async () => {
    const metrics = new PollerMetrics({ siteIds: [3] });
    metrics.tickStarted();
    server = await startHealthServer({ port: 0, host: '127.0.0.1', status: () => status(), metrics });
    const res = await fetch(`http://127.0.0.1:${server.port}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toMatch(/^matomo_live_poller_ticks_total 1$/m);
    expect(text).toMatch(/^matomo_live_poller_snapshots_published_total\{site="3"\} 0$/m);
    await server.close();
    server = await startHealthServer({ port: 0, host: '127.0.0.1', status: () => status() });
    expect((await get('/metrics')).status).toBe(404);
  });
});
