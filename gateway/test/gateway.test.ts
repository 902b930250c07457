import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { createGateway, systemClock } from '@matomo-live/gateway';
import { loadGatewayConfig } from '@matomo-live/shared';
import { capturedLogger } from '@matomo-live/test-support/logger';
import { CloseCode } from '@matomo-live/gateway';
import { startGateway, type RunningGateway } from '@matomo-live/test-support/gateway';
import { waitFor } from '@matomo-live/test-support/wait-for';
import { attempt, type AttemptOutcome } from '@matomo-live/test-support/ws-client';
import { parseReconnectHint } from '@matomo-live/protocol';
import { content, httpGet, redisWorld, TestClient, testConfig, TOKEN } from './support/harness';

type World = Awaited<ReturnType<typeof redisWorld>>;
let world: World;
const running: RunningGateway[] = [];
const clients: TestClient[] = [];

beforeEach(async () => {
  world = await redisWorld('gateway');
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
  for (const g of running.splice(0)) await g.stop();
  await world.close();
});

async function gatewayWith(env: Record<string, string> = {}): Promise<RunningGateway> {
  const g = await startGateway(testConfig(world.prefix, world.url, env));
  running.push(g);
  await waitFor(() => g.gateway.isReady(), 'gateway ready');
  return g;
}

function connect(url: string, options: Parameters<typeof TestClient.connect>[1] = {}): TestClient {
  const c = TestClient.connect(url, options);
  clients.push(c);
  return c;
}

describe('gateway over a real Redis', () => {
  it('sends the cached snapshot at once, as published bytes, in all three token forms', async () => {
    const bytes = await world.publisher.store(1, 7);
    const g = await gatewayWith();
    const viaQuery = connect(`${g.url}?token=${TOKEN}`);
    const viaHeader = connect(`${g.url}ws`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    const viaProtocol = connect(`${g.url}ws/`, { protocols: ['matomo-live.v1', `token.${TOKEN}`] });
    for (const c of [viaQuery, viaHeader, viaProtocol]) expect(await c.nextMessages(1)).toEqual([bytes.toString()]);
    expect(viaProtocol.ws.protocol).toBe('matomo-live.v1');
    expect(viaQuery.json(0)).toMatchObject({ site: 1, seq: 7, summary: { today: { visits: 7 } } });
  });

  it.each([
    ['missing', ''],
    ['wrong', '?token=nope'],
    ['a prefix of the right one', `?token=${TOKEN.slice(0, -1)}`],
  ])('closes a %s token with 4001 "Invalid token" and sends nothing', async (_label, query) => {
    await world.publisher.store(1, 1);
    const g = await gatewayWith();
    const c = connect(`${g.url}${query}`);
    expect(await c.closed).toEqual({ code: 4001, reason: 'Invalid token' });
    expect(c.messages).toEqual([]);
  });

  it('fans a change out to every client of every replica, and sends nothing while unchanged', async () => {
    await world.publisher.store(1, 1);
    const [a, b] = [await gatewayWith(), await gatewayWith()];
    const cs = [a, a, b, b].map((g) => connect(`${g.url}?token=${TOKEN}`));
    for (const c of cs) await c.nextMessages(1);
    const change = await world.publisher.publish(1, 2);
    for (const c of cs) expect((await c.nextMessages(2))[1]).toBe(change.toString());
    // The same seq again (a replay, a reconnect re-read) is dropped...
    await world.publisher.publishBytes(1, change);
    const next = await world.publisher.publish(1, 3);
    // ...so the next message every client sees is the next change.
    for (const c of cs) expect((await c.nextMessages(3))[2]).toBe(next.toString());
    for (const c of cs) expect(c.messages).toHaveLength(3);
    // Every one of those writes took the shared-frame fast path.
    expect(a.gateway.writer.writes.sharedFrame + b.gateway.writer.writes.sharedFrame).toBe(12);
    expect(a.gateway.writer.writes.wsSend + b.gateway.writer.writes.wsSend).toBe(0);
  });

  it('with BROADCAST_FAST_PATH=false, fans out the same bytes through ws.send', async () => {
    await world.publisher.store(1, 1);
    const g = await gatewayWith({ BROADCAST_FAST_PATH: 'false' });
    const cs = [connect(`${g.url}?token=${TOKEN}`), connect(`${g.url}?token=${TOKEN}`)];
    for (const c of cs) await c.nextMessages(1);
    const change = await world.publisher.publish(1, 2);
    for (const c of cs) expect((await c.nextMessages(2))[1]).toBe(change.toString());
    expect(g.gateway.writer.writes).toEqual({ sharedFrame: 0, wsSend: 4 });
    expect((await httpGet(g.port, '/metrics')).body).toMatch(/^matomo_live_gateway_broadcast_fast_path 0$/m);
  });

  it('delivers a lower seq (stream reset) and ignores malformed published bytes', async () => {
    await world.publisher.store(1, 50);
    const g = await gatewayWith();
    const c = connect(`${g.url}?token=${TOKEN}`);
    await c.nextMessages(1);
    await world.publisher.publishBytes(1, 'not json');
    await world.publisher.publishBytes(1, JSON.stringify({ site: 2, seq: 9, visits_live: [], summary: {} }));
    const reset = await world.publisher.publish(1, 1);
    expect((await c.nextMessages(2))[1]).toBe(reset.toString());
    expect(c.messages).toHaveLength(2);
    const outcomes = (await g.gateway.metrics.snapshotsReceived.get()).values.map((v) => [v.labels.outcome, v.value]);
    expect(outcomes).toEqual(expect.arrayContaining([['malformed', 2]]));
  });

  it('serves the first snapshot published after connect when nothing was cached', async () => {
    const g = await gatewayWith();
    const c = connect(`${g.url}?token=${TOKEN}`);
    await c.opened;
    const first = await world.publisher.publish(1, 1);
    expect(await c.nextMessages(1)).toEqual([first.toString()]);
  });

  it('sends a fields= variant only when its own content changes', async () => {
    await world.publisher.store(1, 1);
    const g = await gatewayWith();
    const small = connect(`${g.url}?token=${TOKEN}&fields=summary`);
    const full = connect(`${g.url}?token=${TOKEN}`);
    await small.nextMessages(1);
    await full.nextMessages(1);
    expect(Object.keys(small.json(0)).sort()).toEqual(['seq', 'site', 'summary', 'updated_at']);
    // Only the live visits change: the summary-only client gets nothing.
    const visitsOnly = content(1, 1, { visits_live: [{ city: 'Lyon' } as never] });
    await world.publisher.publish(1, 2, visitsOnly);
    await full.nextMessages(2);
    await world.publisher.publish(1, 3, content(1, 3));
    await full.nextMessages(3);
    await small.nextMessages(2);
    expect(small.messages).toHaveLength(2);
    expect(small.json(1)).toMatchObject({ seq: 3, summary: { today: { visits: 3 } } });
    expect(small.json(1)).not.toHaveProperty('visits_live');
  });

  it('rejects an unknown fields= name with 1008', async () => {
    const g = await gatewayWith();
    const c = connect(`${g.url}?token=${TOKEN}&fields=summary,secrets`);
    expect((await c.closed).code).toBe(CloseCode.PolicyViolation);
  });

  it('answers {"type":"ping"} with {"type":"pong"}', async () => {
    const g = await gatewayWith();
    const c = connect(`${g.url}?token=${TOKEN}`);
    await c.opened;
    c.ws.send(JSON.stringify({ type: 'ping' }));
    expect(await c.nextMessages(1)).toEqual(['{"type":"pong"}']);
  });

  it('closes only the client that sends a 2 MiB frame (1009), malformed text or binary (1008), floods (1008) or a broken frame (1002)', async () => {
    await world.publisher.store(1, 1);
    const g = await gatewayWith();
    const bystander = connect(`${g.url}?token=${TOKEN}`);
    const big = connect(`${g.url}?token=${TOKEN}`);
    const garbage = connect(`${g.url}?token=${TOKEN}`);
    const binary = connect(`${g.url}?token=${TOKEN}`);
    const flood = connect(`${g.url}?token=${TOKEN}`);
    const broken = connect(`${g.url}?token=${TOKEN}`);
    for (const c of [bystander, big, garbage, binary, flood, broken]) await c.nextMessages(1);
    // A frame with the reserved opcode 3: a WebSocket protocol error (1002).
    (broken.ws as unknown as { _socket: import('node:net').Socket })._socket.write(Buffer.from([0x83, 0x80, 1, 2, 3, 4]));
    big.ws.send(Buffer.alloc(2 * 1024 * 1024, 0x61).toString());
    garbage.ws.send('{not json');
    binary.ws.send(Buffer.from([1, 2, 3]));
    for (let i = 0; i < 200; i++) flood.ws.send('{"type":"ping"}');
    expect((await big.closed).code).toBe(CloseCode.MessageTooBig);
    expect((await garbage.closed).code).toBe(CloseCode.PolicyViolation);
    expect((await binary.closed).code).toBe(CloseCode.PolicyViolation);
    expect((await flood.closed).code).toBe(CloseCode.PolicyViolation);
    expect([1002, 1006]).toContain((await broken.closed).code);
    expect(flood.messages.filter((m) => m === '{"type":"pong"}').length).toBeLessThan(200);
    const change = await world.publisher.publish(1, 2);
    expect((await bystander.nextMessages(2))[1]).toBe(change.toString());
    expect(bystander.closeCode).toBeUndefined();
  });

  it('cuts a client that stops reading with 4005, without holding up the others', async () => {
    await world.publisher.store(1, 1);
    const g = await gatewayWith({ SEND_BUFFER_LIMIT: String(1024 * 1024) });
    const slow = connect(`${g.url}?token=${TOKEN}`);
    const fast = connect(`${g.url}?token=${TOKEN}`);
    await slow.nextMessages(1);
    await fast.nextMessages(1);
    (slow.ws as unknown as { _socket: import('node:net').Socket })._socket.pause();
    const padding = 'x'.repeat(256 * 1024);
    let seq = 1;
    const slowCloses = async () => (await g.gateway.metrics.slowClientCloses.get()).values[0]?.value ?? 0;
    while ((await slowCloses()) === 0) {
      seq += 1;
      if (seq > 400) throw new Error('the slow client was never cut');
      const bytes = await world.publisher.publish(1, seq, content(1, seq, { timezone: padding }));
      // The fast client gets every change as it happens.
      expect((await fast.nextMessages(seq))[seq - 1]).toBe(bytes.toString());
    }
    (slow.ws as unknown as { _socket: import('node:net').Socket })._socket.resume();
    expect((await slow.closed).code).toBe(CloseCode.SlowConsumer);
    // Latest-wins: it was never sent a queue of every change.
    expect(slow.messages.length).toBeLessThan(seq);
    expect(fast.closeCode).toBeUndefined();
  });

  it('terminates a peer that stops answering pings, keeps one that answers', async () => {
    const beats: Array<() => void> = [];
    const clock = { ...systemClock, setInterval: (fn: () => void) => beats.push(fn), clearInterval: () => undefined };
    const g = await startGateway(testConfig(world.prefix, world.url), { clock });
    running.push(g);
    // Upgrades wait for the first subscription (a gateway that never reached Redis answers 503).
    await waitFor(() => g.gateway.isReady(), 'gateway ready');
    const answers = connect(`${g.url}?token=${TOKEN}`);
    const mute = connect(`${g.url}?token=${TOKEN}`, { autoPong: false });
    await answers.opened;
    await mute.opened;
    const pinged = (c: TestClient) => new Promise<void>((resolve) => c.ws.once('ping', () => resolve()));
    const bothPinged = Promise.all([pinged(answers), pinged(mute)]);
    beats.forEach((b) => b());
    await bothPinged;
    // A message round trip after the ping proves the server has read the automatic pong sent before it.
    answers.ws.send('{"type":"ping"}');
    await answers.nextMessages(1);
    beats.forEach((b) => b());
    expect((await mute.closed).code).toBe(1006);
    expect(answers.ws.readyState).toBe(answers.ws.OPEN);
  });

  it('drains: readiness 503, new upgrades refused, clients closed with 1001', async () => {
    const g = await gatewayWith({ DRAIN_WINDOW: '300' });
    const cs = [1, 2, 3].map(() => connect(`${g.url}?token=${TOKEN}`));
    for (const c of cs) await c.opened;
    expect((await httpGet(g.port, '/readyz')).status).toBe(200);
    const drained = g.gateway.drain();
    expect((await httpGet(g.port, '/readyz')).status).toBe(503);
    const late = connect(`${g.url}?token=${TOKEN}`);
    await expect(late.opened).rejects.toThrow('HTTP 503');
    await drained;
    for (const c of cs) {
      const { code, reason } = await c.closed;
      expect(code).toBe(CloseCode.GoingAway);
      // Each close tells its client to come back within half a second (the closes are spread already).
      const hint = parseReconnectHint(reason);
      expect(hint).toMatchObject({ cause: 'drain' });
      expect(hint!.retryAfterMs).toBeLessThan(500);
    }
  });

  it('paces a storm above ACCEPT_RATE: the excess is closed with 1013 and hints one slot (1000 / rate ms) apart', async () => {
    await world.publisher.store(1, 3);
    const g = await gatewayWith({ ACCEPT_RATE: '4' });
    const storm = Array.from({ length: 7 }, () => connect(`${g.url}?token=${TOKEN}`));
    const outcomes = await Promise.all(
      storm.map((c) => Promise.race([c.nextMessages(1).then(() => 'snapshot'), c.closed.then(({ code, reason }) => ({ code, reason }))])),
    );
    expect(outcomes.filter((o) => o === 'snapshot')).toHaveLength(4);
    const refused = outcomes.filter((o): o is { code: number; reason: string } => o !== 'snapshot');
    expect(refused.map((r) => r.code)).toEqual([1013, 1013, 1013]);
    const hints = refused.map((r) => parseReconnectHint(r.reason)!).sort((a, b) => a.retryAfterMs - b.retryAfterMs);
    expect(hints.every((h) => h.cause === 'overload')).toBe(true);
    // Slots 250, 500, 750 ms out (less the time the storm took), plus up to 250 ms of jitter each.
    expect(hints[0]!.retryAfterMs).toBeLessThan(500);
    expect(hints[2]!.retryAfterMs).toBeGreaterThan(400);
    expect(hints[2]!.retryAfterMs).toBeLessThan(1000);
    const metrics = (await httpGet(g.port, '/metrics')).body;
    expect(metrics).toMatch(/matomo_live_gateway_auth_failures_total\{reason="accept-rate"\} 3/);
  });

  it('answers /healthz, /readyz, /metrics, and /debug only with a Bearer token', async () => {
    await world.publisher.store(1, 4);
    const g = await gatewayWith();
    expect(await httpGet(g.port, '/healthz')).toMatchObject({ status: 200 });
    expect(JSON.parse((await httpGet(g.port, '/readyz')).body)).toEqual({ ready: true, sites: [{ site: 1, seq: 4 }] });
    const metrics = (await httpGet(g.port, '/metrics')).body;
    for (const name of [
      'connections',
      'messages_sent_total',
      'bytes_sent_total',
      'slow_client_closes_total',
      'auth_failures_total',
      'feed_ready 1',
      'last_seq{site="1"} 4',
      'send_lag_seconds',
    ]) {
      expect(metrics).toContain(`matomo_live_gateway_${name}`);
    }
    // Sent counts are tallied per write and folded in at scrape time: each scrape shows the writes since.
    const cs = [1, 2].map(() => connect(`${g.url}?token=${TOKEN}`));
    for (const c of cs) await c.nextMessages(1);
    const bytes = await world.publisher.publish(1, 5);
    for (const c of cs) await c.nextMessages(2);
    const after = (await httpGet(g.port, '/metrics')).body;
    expect(after).toContain('matomo_live_gateway_messages_sent_total 4');
    expect(after).toMatch(/matomo_live_gateway_send_lag_seconds_count [1-9]/);
    expect(Number(/matomo_live_gateway_bytes_sent_total (\d+)/.exec(after)?.[1])).toBeGreaterThan(2 * bytes.length);
    expect((await httpGet(g.port, '/metrics')).body).toContain('matomo_live_gateway_messages_sent_total 4');
    expect((await httpGet(g.port, '/debug')).status).toBe(401);
    expect((await httpGet(g.port, `/debug?token=${TOKEN}`)).status).toBe(401);
    const debug = await httpGet(g.port, '/debug', { Authorization: `Bearer ${TOKEN}` });
    expect(debug.status).toBe(200);
    expect(debug.body).toContain('seq 5');
    expect(debug.headers['cache-control']).toBe('no-store');
  });

  it('serves DASHBOARD_DIR at /dashboard/, and nothing there when off', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-dash-'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>live</title>');
    const on = await gatewayWith({ DASHBOARD_DIR: dir });
    expect(await httpGet(on.port, '/dashboard')).toMatchObject({ status: 301, headers: { location: '/dashboard/' } });
    const page = await httpGet(on.port, '/dashboard/');
    expect(page).toMatchObject({ status: 200, body: '<!doctype html><title>live</title>' });
    expect(page.headers['content-security-policy']).toContain("default-src 'self'");
    const off = await gatewayWith({ DASHBOARD_DIR: 'off' });
    expect((await httpGet(off.port, '/dashboard/')).status).toBe(404);
  });

  it('enforces the Origin allow-list (no Origin always allowed)', async () => {
    const g = await gatewayWith({ ALLOWED_ORIGINS: 'https://screens.example.org' });
    await expect(connect(`${g.url}?token=${TOKEN}`, { origin: 'https://evil.example' }).opened).rejects.toThrow('HTTP 403');
    await connect(`${g.url}?token=${TOKEN}`, { origin: 'https://screens.example.org' }).opened;
    await connect(`${g.url}?token=${TOKEN}`).opened;
  });

  it('caps connections per process and per token with 1013, and unknown sites get 4004', async () => {
    const g = await gatewayWith({ MAX_CONNECTIONS: '2', MAX_CONNECTIONS_PER_TOKEN: '1', VALID_TOKENS: `${TOKEN},other-token` });
    await connect(`${g.url}?token=${TOKEN}`).opened;
    expect((await connect(`${g.url}?token=${TOKEN}`).closed).code).toBe(CloseCode.TryAgainLater);
    await connect(`${g.url}?token=other-token`).opened;
    await waitFor(() => g.gateway.connectionCount === 2, '2 connections');
    expect((await connect(`${g.url}?token=other-token&site=1`).closed).code).toBe(CloseCode.TryAgainLater);
    expect((await connect(`${g.url}?token=${TOKEN}&site=9`).closed).code).toBe(CloseCode.UnknownSite);
  });

  it('limits connection attempts per client IP with 1013', async () => {
    const g = await gatewayWith({ CONNECT_RATE_PER_IP: '2' });
    await connect(`${g.url}?token=${TOKEN}`).opened;
    await connect(`${g.url}?token=${TOKEN}`).opened;
    expect((await connect(`${g.url}?token=${TOKEN}`).closed).code).toBe(CloseCode.TryAgainLater);
  });

  it('refuses an address with HTTP 429 + Retry-After after FAILED_AUTH_PER_IP wrong tokens, valid tokens included; others go on', async () => {
    await world.publisher.store(1, 3);
    // Loopback is the trusted proxy: X-Forwarded-For names each test client.
    const g = await gatewayWith({ FAILED_AUTH_PER_IP: '5', TRUST_PROXY: 'loopback' });
    const from = (address: string) => ({ headers: { 'X-Forwarded-For': address } });
    const wrong: AttemptOutcome[] = [];
    for (let i = 0; i < 8; i++) wrong.push(await attempt(`${g.url}?token=wrong-${i}`, from('198.51.100.7')));
    expect(wrong.slice(0, 5)).toEqual(
      Array.from({ length: 5 }, () => expect.objectContaining({ kind: 'close', code: CloseCode.InvalidToken })),
    );
    for (const outcome of wrong.slice(5)) {
      expect(outcome).toMatchObject({ kind: 'http', status: 429 });
      const seconds = Number((outcome as { retryAfter: string }).retryAfter);
      expect(seconds).toBeGreaterThanOrEqual(1);
      expect(seconds).toBeLessThanOrEqual(60);
    }
    expect(await attempt(`${g.url}?token=${TOKEN}`, from('198.51.100.7'))).toMatchObject({ kind: 'http', status: 429 });
    // The token in a header form is refused the same; another address is not.
    expect(await attempt(g.url, { ...from('198.51.100.7'), protocols: ['matomo-live.v1', `token.${TOKEN}`] })).toMatchObject({
      status: 429,
    });
    expect(await attempt(`${g.url}?token=${TOKEN}`, from('198.51.100.8'))).toMatchObject({ kind: 'message' });
    // A missing token is not a guess: it does not count.
    for (let i = 0; i < 6; i++)
      expect(await attempt(g.url, from('198.51.100.9'))).toMatchObject({ kind: 'close', code: CloseCode.InvalidToken });
    expect(await attempt(`${g.url}?token=${TOKEN}`, from('198.51.100.9'))).toMatchObject({ kind: 'message' });
    const metrics = (await httpGet(g.port, '/metrics')).body;
    expect(metrics).toMatch(/matomo_live_gateway_auth_failures_total\{reason="failed-auth-limit"\} 5/);
  });

  it('wrong tokens do not use up ACCEPT_RATE: valid clients after a burst of them are all accepted', async () => {
    await world.publisher.store(1, 3);
    const g = await gatewayWith({ ACCEPT_RATE: '4', TRUST_PROXY: 'loopback' });
    const wrong = await Promise.all(
      Array.from({ length: 12 }, (_, i) => attempt(`${g.url}?token=wrong-${i}`, { headers: { 'X-Forwarded-For': `198.51.100.${i}` } })),
    );
    expect(wrong.map((o) => (o.kind === 'close' ? o.code : o.kind))).toEqual(Array.from({ length: 12 }, () => CloseCode.InvalidToken));
    const valid = await Promise.all(Array.from({ length: 4 }, () => attempt(`${g.url}?token=${TOKEN}`)));
    expect(valid.map((o) => o.kind)).toEqual(['message', 'message', 'message', 'message']);
  });

  it('serves wss when SSL_KEY and SSL_CERT are set', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-tls-'));
    const [key, cert] = [join(dir, 'key.pem'), join(dir, 'cert.pem')];
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    const bytes = await world.publisher.store(1, 2);
    const g = await gatewayWith({ SSL_KEY: key, SSL_CERT: cert });
    const c = connect(`wss://127.0.0.1:${g.port}/?token=${TOKEN}`, { ca: readFileSync(cert) });
    expect(await c.nextMessages(1)).toEqual([bytes.toString()]);
  });

  it('reloadTokens (SIGHUP): a rewritten VALID_TOKENS_FILE admits the new token and closes the removed one with 4001', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-tokens-'));
    const file = join(dir, 'tokens');
    writeFileSync(file, 'kept-token-0001,gone-token-0001\n');
    await world.publisher.store(1, 1);
    const g = await gatewayWith({ VALID_TOKENS: '', VALID_TOKENS_FILE: file });
    const kept = connect(`${g.url}?token=kept-token-0001`);
    const gone = connect(`${g.url}?token=gone-token-0001`);
    await Promise.all([kept.nextMessages(1), gone.nextMessages(1)]);
    writeFileSync(file, 'kept-token-0001,new-token-0001\n');
    await g.gateway.reloadTokens();
    expect(await gone.closed).toEqual({ code: 4001, reason: 'Invalid token' });
    await connect(`${g.url}?token=new-token-0001`).nextMessages(1);
    expect((await connect(`${g.url}?token=gone-token-0001`).closed).code).toBe(4001);
    expect(kept.closeCode).toBeUndefined();
    const metrics = (await httpGet(g.port, '/metrics')).body;
    expect(metrics).toContain('matomo_live_gateway_token_reloads_total{source="files",result="applied"} 1');
    expect(metrics).toContain('matomo_live_gateway_token_revoked_closes_total 1');
  });

  describe('signed tokens', () => {
    const secret = 'a-test-secret-of-at-least-32-bytes!!';
    const hs = (claims: Record<string, unknown>, exp: string | number = '1h') =>
      new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(exp).sign(Buffer.from(secret));

    it('accepts HS256 for allowed sites, 4002 when expired, 4003 for another site', async () => {
      await world.publisher.store(1, 1);
      await world.publisher.store(2, 1);
      const g = await gatewayWith({ JWT_SECRET: secret, MATOMO_SITE_IDS: '1,2' });
      const ok = connect(`${g.url}?site=1`, { headers: { Authorization: `Bearer ${await hs({ sites: [1] })}` } });
      expect(JSON.parse((await ok.nextMessages(1))[0] as string)).toMatchObject({ site: 1 });
      const expired = connect(`${g.url}?token=${await hs({ sites: [1] }, Math.floor(Date.now() / 1000) - 60)}`);
      expect(await expired.closed).toEqual({ code: 4002, reason: 'Token expired' });
      const otherSite = connect(`${g.url}?site=2&token=${await hs({ sites: [1] })}`);
      expect(await otherSite.closed).toEqual({ code: 4003, reason: 'Site not allowed for this token' });
      const noClaim = connect(`${g.url}?token=${await hs({})}`);
      expect((await noClaim.closed).code).toBe(4003);
      const forged = connect(
        `${g.url}?token=${await new SignJWT({ sites: '*' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('1h').sign(Buffer.from('another-secret-that-is-32-bytes-long'))}`,
      );
      expect((await forged.closed).code).toBe(4001);
      for (const c of [expired, otherSite, noClaim, forged]) expect(c.messages).toEqual([]);
    });

    it('accepts ES256 tokens from a JWKS file and RS256 from a PEM key', async () => {
      await world.publisher.store(1, 1);
      const { publicKey, privateKey } = await generateKeyPair('ES256');
      const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
      const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const g = await gatewayWith({
        JWT_JWKS: JSON.stringify({ keys: [jwk] }),
        JWT_PUBLIC_KEY: rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      });
      const es = await new SignJWT({ sites: '*' }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setExpirationTime('1h').sign(privateKey);
      const rs = await new SignJWT({ sites: [1] }).setProtectedHeader({ alg: 'RS256' }).setExpirationTime('1h').sign(rsa.privateKey);
      await connect(g.url, { protocols: ['matomo-live.v1', `token.${es}`] }).nextMessages(1);
      await connect(g.url, { headers: { Authorization: `Bearer ${rs}` } }).nextMessages(1);
      const { privateKey: stranger } = await generateKeyPair('ES256');
      const unknownKey = await new SignJWT({ sites: '*' })
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setExpirationTime('1h')
        .sign(stranger);
      expect((await connect(`${g.url}?token=${unknownKey}`).closed).code).toBe(4001);
    });
  });
});

describe('a gateway that never reached Redis', () => {
  it('refuses upgrades with 503 (NGINX tries another replica), stays alive, and says so at error level after 10 s', async () => {
    const log = capturedLogger('info');
    let now = 1_000_000;
    const intervals: Array<() => void> = [];
    const clock = {
      ...systemClock,
      now: () => now,
      setInterval: (fn: () => void) => intervals.push(fn),
      clearInterval: () => undefined,
    };
    // A feed that never subscribes: Redis unreachable from the start.
    const never = <T>() => new Promise<T>(() => undefined);
    const feed = { subscribe: never<Buffer | null>, watchHeartbeat: never<null>, isReady: () => false, close: async () => undefined };
    const config = loadGatewayConfig(
      { PORT: '0', HOST: '127.0.0.1', VALID_TOKENS: TOKEN, DASHBOARD_DIR: 'off' },
      { dotenv: false, requireRedis: false },
    );
    const gateway = createGateway({ config, feed, logger: log.logger, clock });
    const port = await gateway.listen();
    try {
      const refused = TestClient.connect(`ws://127.0.0.1:${port}/?token=${TOKEN}`);
      clients.push(refused);
      await expect(refused.opened).rejects.toThrow('HTTP 503');
      expect((await httpGet(port, '/healthz')).status).toBe(200);
      expect((await httpGet(port, '/readyz')).status).toBe(503);
      const tick = () => intervals.forEach((fn) => fn());
      now += 9000;
      tick();
      expect(log.lines().filter((l) => l.level === 50)).toEqual([]);
      now += 1000;
      tick();
      tick();
      expect(log.lines().filter((l) => l.level === 50)).toEqual([
        expect.objectContaining({
          msg: expect.stringMatching(/^no snapshot feed yet/),
          waitedMs: 10_000,
          docs: 'docs/OPERATIONS.md#redis-faults',
        }),
      ]);
      expect((await httpGet(port, '/metrics')).body).toMatch(/matomo_live_gateway_auth_failures_total\{reason="not-ready"\} 1/);
    } finally {
      await gateway.dispose();
    }
  });
});
