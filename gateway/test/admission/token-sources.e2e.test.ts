/**
 * Rotation without a restart, end to end: the built gateway (node
 * gateway/dist/main.js) on a real Redis, real WebSocket clients, a
 * Kubernetes-style Secret volume and a real JWKS endpoint on loopback.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { freePort } from '@matomo-live/test-support/net';
import { buildWorkspace, startService, type ServiceProcess } from '@matomo-live/test-support/processes';
import { waitFor } from '@matomo-live/test-support/wait-for';
import { redisWorld, TestClient } from '../support/harness';
import { SecretVolume } from '../support/secret-volume';

const MAIN = join(__dirname, '..', '..', 'dist', 'main.js');

type World = Awaited<ReturnType<typeof redisWorld>>;

async function startGateway(world: World, env: Record<string, string>): Promise<{ gw: ServiceProcess; url: string; port: number }> {
  const port = await freePort();
  const gw = startService(MAIN, { PORT: String(port), HOST: '127.0.0.1', REDIS_URL: world.url, REDIS_PREFIX: world.prefix, ...env });
  await gw.waitForOutput(/subscribed to snapshots/, 20_000);
  await gw.waitForOutput(/gateway listening/, 20_000);
  return { gw, url: `ws://127.0.0.1:${port}/`, port };
}

/** Connects with `token`, resolving to the first message, or the close if refused. */
async function attempt(url: string, token: string): Promise<{ client: TestClient; accepted: boolean }> {
  const client = TestClient.connect(url, { protocols: ['matomo-live.v1', `token.${token}`] });
  await Promise.race([client.nextMessages(1, 10_000), client.closed]);
  return { client, accepted: client.messages.length > 0 && client.closeCode === undefined };
}

/** Retries a connection with `token` until the gateway lets it in; resolves with the client and how long it took, ms. */
async function connectsWithin(url: string, token: string): Promise<{ client: TestClient; ms: number }> {
  const started = Date.now();
  let client: TestClient | undefined;
  await waitFor(
    async () => {
      const result = await attempt(url, token);
      if (result.accepted) client = result.client;
      else result.client.close();
      return result.accepted;
    },
    'the new token to be accepted',
    15_000,
  );
  return { client: client!, ms: Date.now() - started };
}

async function metric(port: number, pattern: RegExp): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const match = pattern.exec(text);
  return match === null ? Number.NaN : Number(match[1]);
}

describe('token rotation without a restart (node gateway/dist/main.js)', () => {
  let world: World;
  const stop: Array<() => Promise<void> | void> = [];
  beforeAll(() => buildWorkspace(join(__dirname, '..', '..')), 180_000);
  beforeEach(async () => {
    world = await redisWorld('rotation');
    await world.publisher.store(1, 3);
  });
  afterEach(async () => {
    for (const fn of stop.splice(0).reverse()) await fn();
    await world.close();
  });

  it('VALID_TOKENS_FILE swapped as Kubernetes does: a new token within 5 s, a removed one closed with 4001 within 10 s', async () => {
    const volume = new SecretVolume({ VALID_TOKENS: 'keep-token-000001,old-token-000001\n' });
    stop.push(() => volume.remove());
    const { gw, url, port } = await startGateway(world, { VALID_TOKENS_FILE: volume.path('VALID_TOKENS') });
    stop.push(() => gw.kill());
    const old = await attempt(url, 'old-token-000001');
    const keep = await attempt(url, 'keep-token-000001');
    expect([old.accepted, keep.accepted]).toEqual([true, true]);
    expect((await attempt(url, 'new-token-000001')).client.closeCode).toBe(4001);

    const rotatedAt = Date.now();
    volume.swap({ VALID_TOKENS: 'keep-token-000001,new-token-000001\n' });
    const fresh = await connectsWithin(url, 'new-token-000001');
    expect(fresh.ms).toBeLessThan(5000);
    const closed = await old.client.closed;
    expect(closed.code).toBe(4001);
    expect(Date.now() - rotatedAt).toBeLessThan(10_000);
    expect((await attempt(url, 'old-token-000001')).client.closeCode).toBe(4001);
    expect(keep.client.closeCode).toBeUndefined();
    expect(await metric(port, /matomo_live_gateway_token_reloads_total\{source="files",result="applied"\} (\d+)/)).toBe(1);
    expect(await metric(port, /matomo_live_gateway_token_revoked_closes_total (\d+)/)).toBe(1);
    for (const c of [fresh.client, keep.client]) c.close();
    expect(gw.output()).toContain('token files reloaded');
    expect(gw.output()).not.toMatch(/(old|new|keep)-token-000001/);
  }, 60_000);

  it('SIGHUP re-reads the files and fetches JWT_JWKS_URL again; an emptied file keeps the last good set', async () => {
    const volume = new SecretVolume({ VALID_TOKENS: 'hup-token-000001\n' });
    stop.push(() => volume.remove());
    const idp = await jwksProvider();
    stop.push(() => idp.close());
    await idp.serve(['k1']);
    const { gw, url, port } = await startGateway(world, { VALID_TOKENS_FILE: volume.path('VALID_TOKENS'), JWT_JWKS_URL: idp.url });
    stop.push(() => gw.kill());
    const fetchesAtStart = idp.requests();
    gw.child.kill('SIGHUP');
    await waitFor(
      async () => (await metric(port, /matomo_live_gateway_token_reloads_total\{source="files",result="unchanged"\} (\d+)/)) === 1,
      'the SIGHUP reload of the files',
      10_000,
    );
    await waitFor(() => idp.requests() === fetchesAtStart + 1, 'the SIGHUP fetch of the JWKS', 10_000);
    expect(gw.child.exitCode).toBeNull();

    volume.swap({ VALID_TOKENS: '\n' });
    await gw.waitForOutput(/token files not reloaded; keeping the last good set/, 10_000);
    expect((await attempt(url, 'hup-token-000001')).accepted).toBe(true);
    expect(gw.output().match(/token files not reloaded/g)).toHaveLength(1);
  }, 60_000);

  it('JWT_JWKS_URL: the provider rotates its key; the new kid is accepted without a restart, the old key closed with 4001', async () => {
    const idp = await jwksProvider();
    stop.push(() => idp.close());
    await idp.serve(['k1']);
    const { gw, url } = await startGateway(world, { JWT_JWKS_URL: idp.url });
    stop.push(() => gw.kill());
    const first = await attempt(url, await idp.sign('k1'));
    expect(first.accepted).toBe(true);

    await idp.serve(['k2']);
    const second = await attempt(url, await idp.sign('k2'));
    expect(second.accepted).toBe(true);
    expect((await first.client.closed).code).toBe(4001);
    expect((await attempt(url, await idp.sign('k1'))).client.closeCode).toBe(4001);
    second.client.close();
    expect(gw.output()).toContain('JWKS loaded');
  }, 60_000);
});

/** A real JWKS endpoint on loopback, with `max-age=3600` so only a rotation or SIGHUP fetches again. */
async function jwksProvider() {
  const keys = new Map<string, { privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey']; jwk: object }>();
  let body = '{"keys":[]}';
  let requests = 0;
  const server: Server = createServer((_req, res) => {
    requests += 1;
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=3600' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const keyOf = async (kid: string) => {
    if (!keys.has(kid)) {
      const pair = await generateKeyPair('ES256', { extractable: true });
      keys.set(kid, { privateKey: pair.privateKey, jwk: { ...(await exportJWK(pair.publicKey)), kid, alg: 'ES256', use: 'sig' } });
    }
    return keys.get(kid)!;
  };
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`,
    requests: () => requests,
    async serve(kids: string[]): Promise<void> {
      body = JSON.stringify({ keys: await Promise.all(kids.map(async (kid) => (await keyOf(kid)).jwk)) });
    },
    async sign(kid: string): Promise<string> {
      return new SignJWT({ sites: '*' })
        .setProtectedHeader({ alg: 'ES256', kid })
        .setExpirationTime('1h')
        .sign((await keyOf(kid)).privateKey);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
