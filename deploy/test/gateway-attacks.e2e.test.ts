/**
 * The gateway's door as an attacker meets it (issue 20, the gateway side): a
 * real gateway on a real Redis, behind the shipped plain NGINX site
 * (deploy/nginx/matomo-live.conf) in the installed nginx.
 *
 * Every loopback address is this host, so "clients" are 127.0.0.x addresses
 * (Linux routes all of 127.0.0.0/8 to lo): nginx reaches the gateway from
 * 127.0.0.1, the one trusted proxy (TRUST_PROXY=127.0.0.1), and each client
 * connects from its own 127.0.0.x — through nginx, or straight to the
 * gateway as an untrusted peer.
 */
import { request } from 'node:http';
import { join } from 'node:path';
import { encodeSnapshot, PUBLIC_DEMO_TOKEN, redisNames } from '@matomo-live/shared';
import { gatewayConfigFrom, startGateway, type RunningGateway } from '@matomo-live/test-support/gateway';
import { freePort } from '@matomo-live/test-support/net';
import { buildWorkspace, REPO_ROOT, startService } from '@matomo-live/test-support/processes';
import { redisScope, type RedisScope } from '@matomo-live/test-support/redis';
import { attempt, type AttemptOutcome } from '@matomo-live/test-support/ws-client';
import { missingForNginx, startSiteNginx, SITE_CONTENT, type SiteNginx } from './site-nginx';

const TOKEN = 'gateway-attacks-valid-token-0123456789';

const missing = missingForNginx();
if (missing.length > 0) {
  console.warn(
    `\n*** SKIPPED the nginx part of deploy/test/gateway-attacks.e2e.test.ts (wrong tokens through the shipped site): ` +
      `${missing.join(' and ')} not on PATH (apt-get install nginx-light openssl).\n`,
  );
}
const describeWithNginx = missing.length === 0 ? describe : describe.skip;

/** A made-up X-Forwarded-For value, different for each attempt: what an attacker sends to look like many clients. */
const madeUp = (i: number) => `203.0.113.${i % 250}, 10.${i % 200}.0.1`;

/** One GET of /debug with a Bearer token, from `localAddress`. */
function debugGet(port: number, token: string, localAddress: string): Promise<{ status: number; retryAfter: string | undefined }> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: '/debug', localAddress, headers: { Authorization: `Bearer ${token}` } }, (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] });
    })
      .on('error', reject)
      .end();
  });
}

const summary = (outcomes: AttemptOutcome[]) =>
  outcomes.map((o) => (o.kind === 'http' ? `http ${o.status}` : o.kind === 'close' ? `close ${o.code}` : 'snapshot'));

describeWithNginx('attacks on the gateway through the shipped nginx site (real Redis, default limits)', () => {
  let redis: RedisScope;
  let gateway: RunningGateway;
  let nginx: SiteNginx;
  let nginxUrl: string;

  beforeAll(async () => {
    redis = await redisScope('attacks');
    const names = redisNames(redis.prefix, 1);
    await redis.command
      .multi()
      .set(names.snapshotKey, encodeSnapshot(SITE_CONTENT, 3, new Date()))
      .hset(names.stateKey, 'seq', '3')
      .exec();
    // FAILED_AUTH_PER_IP and CONNECT_RATE_PER_IP at their defaults (30 and 6000 a minute): the shipped behaviour.
    gateway = await startGateway(
      gatewayConfigFrom({
        PORT: '0',
        HOST: '127.0.0.1',
        VALID_TOKENS: TOKEN,
        DASHBOARD_DIR: 'off',
        TRUST_PROXY: '127.0.0.1',
        REDIS_URL: redis.url,
        REDIS_PREFIX: redis.prefix,
      }),
    );
    nginx = await startSiteNginx({ site: 'plain', upstreamPort: gateway.port });
    nginxUrl = `ws://127.0.0.1:${nginx.httpPort}/ws`;
  });

  afterAll(async () => {
    await nginx?.stop();
    await gateway?.stop();
    await redis?.close();
  });

  test('80 wrong tokens from one client, each with a made-up X-Forwarded-For: 30 answered 4001, then 429 + Retry-After; its valid token too; another client is fine', async () => {
    const outcomes: AttemptOutcome[] = [];
    for (let i = 0; i < 80; i++) {
      outcomes.push(
        await attempt(`${nginxUrl}?token=wrong-${i}`, { localAddress: '127.0.0.5', headers: { 'X-Forwarded-For': madeUp(i) } }),
      );
    }
    expect(summary(outcomes)).toEqual([...Array.from({ length: 30 }, () => 'close 4001'), ...Array.from({ length: 50 }, () => 'http 429')]);
    for (const outcome of outcomes.slice(30)) {
      const seconds = Number((outcome as { retryAfter?: string }).retryAfter);
      expect(seconds).toBeGreaterThanOrEqual(1);
      expect(seconds).toBeLessThanOrEqual(60);
    }
    // The valid token from that address, during the window: refused as well (with yet another made-up header).
    expect(
      await attempt(`${nginxUrl}?token=${TOKEN}`, { localAddress: '127.0.0.5', headers: { 'X-Forwarded-For': madeUp(99) } }),
    ).toMatchObject({
      kind: 'http',
      status: 429,
    });
    expect(await attempt(nginxUrl, { localAddress: '127.0.0.5', headers: { Authorization: `Bearer ${TOKEN}` } })).toMatchObject({
      status: 429,
    });
    // A different client address through the same nginx: served.
    expect(await attempt(`${nginxUrl}?token=${TOKEN}`, { localAddress: '127.0.0.6' })).toMatchObject({ kind: 'message' });
    const metrics = await (await fetch(`http://127.0.0.1:${gateway.port}/metrics`)).text();
    expect(metrics).toMatch(/matomo_live_gateway_auth_failures_total\{reason="failed-auth-limit"\} 52/);
    expect(metrics).toMatch(/matomo_live_gateway_auth_failures_total\{reason="invalid"\} 30/);
  });

  test('X-Forwarded-For from an untrusted peer is ignored: it neither escapes the limit nor frames another address', async () => {
    const direct = gateway.url;
    const outcomes: AttemptOutcome[] = [];
    for (let i = 0; i < 31; i++) {
      outcomes.push(await attempt(`${direct}?token=wrong-${i}`, { localAddress: '127.0.0.7', headers: { 'X-Forwarded-For': madeUp(i) } }));
    }
    expect(summary(outcomes).slice(28)).toEqual(['close 4001', 'close 4001', 'http 429']);
    // Claiming to be the client refused above (or the one served) changes nothing for a direct peer.
    expect(
      await attempt(`${direct}?token=${TOKEN}`, { localAddress: '127.0.0.8', headers: { 'X-Forwarded-For': '127.0.0.7' } }),
    ).toMatchObject({
      kind: 'message',
    });
    expect(
      await attempt(`${direct}?token=${TOKEN}`, { localAddress: '127.0.0.7', headers: { 'X-Forwarded-For': '127.0.0.8' } }),
    ).toMatchObject({
      kind: 'http',
      status: 429,
    });
  });

  test('60 wrong /debug tokens from one address (asked of the gateway: nginx answers /debug 404): 30 × 401, then 429 + Retry-After, a valid token too', async () => {
    const statuses: number[] = [];
    let retryAfter: string | undefined;
    for (let i = 0; i < 60; i++) {
      const answer = await debugGet(gateway.port, `wrong-${i}`, '127.0.0.9');
      statuses.push(answer.status);
      retryAfter ??= answer.retryAfter;
    }
    expect(statuses).toEqual([...Array.from({ length: 30 }, () => 401), ...Array.from({ length: 30 }, () => 429)]);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    expect((await debugGet(gateway.port, TOKEN, '127.0.0.9')).status).toBe(429);
    // The WebSocket door of that address is closed too: one limit per address.
    expect(await attempt(`${gateway.url}?token=${TOKEN}`, { localAddress: '127.0.0.9' })).toMatchObject({ kind: 'http', status: 429 });
    expect((await debugGet(gateway.port, TOKEN, '127.0.0.10')).status).toBe(200);
    // Through nginx the page is not there at all.
    expect((await fetch(`http://127.0.0.1:${nginx.httpPort}/debug`, { headers: { Authorization: `Bearer ${TOKEN}` } })).status).toBe(404);
  });
});

describe('the public demo token of .env.example', () => {
  beforeAll(() => buildWorkspace(join(REPO_ROOT, 'gateway')), 120_000);

  test('a gateway given it outside the demo exits 78 with one line naming VALID_TOKENS (and not the token)', async () => {
    const gw = startService('gateway/dist/main.js', {
      PORT: '0',
      HOST: '127.0.0.1',
      REDIS_URL: 'redis://127.0.0.1:1',
      VALID_TOKENS: PUBLIC_DEMO_TOKEN,
      // Set empty: a developer's .env (read from the working directory) may say the demo runs.
      MATOMO_LIVE_DEMO: '',
    });
    expect(await gw.exited).toBe(78);
    const lines = gw.output().trim().split('\n');
    expect(lines).toEqual([expect.stringMatching(/^config error: VALID_TOKENS: holds the public demo token of \.env\.example/)]);
    expect(gw.output()).not.toContain(PUBLIC_DEMO_TOKEN);
  });

  test('with MATOMO_LIVE_DEMO=1 (the demo) it starts and takes the token', async () => {
    const redis = await redisScope('attacks-demo');
    const port = await freePort();
    const gw = startService('gateway/dist/main.js', {
      PORT: String(port),
      HOST: '127.0.0.1',
      REDIS_URL: redis.url,
      REDIS_PREFIX: redis.prefix,
      VALID_TOKENS: PUBLIC_DEMO_TOKEN,
      MATOMO_LIVE_DEMO: '1',
    });
    try {
      const names = redisNames(redis.prefix, 1);
      await redis.command.set(names.snapshotKey, encodeSnapshot(SITE_CONTENT, 3, new Date()));
      await gw.waitForOutput(/subscribed to snapshots/, 20_000);
      expect(await attempt(`ws://127.0.0.1:${port}/?token=${PUBLIC_DEMO_TOKEN}`)).toMatchObject({ kind: 'message' });
      expect(gw.output()).toMatch(/demo mode/);
    } finally {
      await gw.kill();
      await redis.close();
    }
  });
});
