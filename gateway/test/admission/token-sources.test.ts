import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { SecretVolume } from '../support/secret-volume';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { Registry } from 'prom-client';
import { CloseCode } from '@matomo-live/protocol';
import { capturedLogger } from '@matomo-live/test-support/logger';
import { waitFor } from '@matomo-live/test-support/wait-for';
import { TokenSources, type TokenSourcesOptions } from '../../src/admission/token-sources';
import { TokenMetrics } from '../../src/metrics/token-metrics';

const jwtBase = {
  secret: undefined,
  publicKeyPem: undefined,
  jwks: undefined,
  issuer: undefined,
  audience: undefined,
  sitesClaim: 'sites',
};

function sources(options: Partial<TokenSourcesOptions> & Pick<TokenSourcesOptions, 'settings'>) {
  const { logger, lines } = capturedLogger();
  const metrics = new TokenMetrics(new Registry());
  const tokens = new TokenSources({ logger, metrics, ...options });
  return { tokens, lines, metrics };
}

const accepted = async (tokens: TokenSources, token: string) => (await tokens.verify(token)).ok;

describe('TokenSources', () => {
  const volumes: SecretVolume[] = [];
  const running: TokenSources[] = [];
  afterEach(() => {
    for (const t of running.splice(0)) t.stop();
    for (const v of volumes.splice(0)) v.remove();
  });
  const volume = (files: Record<string, string>) => {
    const v = new SecretVolume(files);
    volumes.push(v);
    return v;
  };
  const start = async (s: ReturnType<typeof sources>) => {
    running.push(s.tokens);
    await s.tokens.start();
    return s;
  };

  it('follows a Kubernetes symlink swap of VALID_TOKENS through the directory watch alone (no polling)', async () => {
    const v = volume({ VALID_TOKENS: 'old-token\n' });
    const s = await start(
      sources({ settings: { validTokens: ['old-token'], jwt: undefined }, files: { VALID_TOKENS: v.path('VALID_TOKENS') }, pollMs: 0 }),
    );
    const changed: unknown[] = [];
    s.tokens.onChange((auth) => changed.push(auth));
    v.swap({ VALID_TOKENS: 'new-token, other-token\n' });
    await waitFor(() => changed.length === 1, 'the watch to swap the tokens', 5000);
    expect(await accepted(s.tokens, 'new-token')).toBe(true);
    expect(await accepted(s.tokens, 'other-token')).toBe(true);
    expect(await accepted(s.tokens, 'old-token')).toBe(false);
    expect(s.lines().some((l) => l.msg === 'token files reloaded' && l.staticTokens === 2)).toBe(true);
    expect(JSON.stringify(s.lines())).not.toContain('new-token');
  });

  it('polls the files when no watch is set (a rewrite in place)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'token-sources-'));
    try {
      const file = join(dir, 'tokens');
      writeFileSync(file, 'first');
      const s = await start(
        sources({ settings: { validTokens: ['first'], jwt: undefined }, files: { VALID_TOKENS: file }, pollMs: 20, watch: false }),
      );
      writeFileSync(file, 'second-token');
      await waitFor(() => accepted(s.tokens, 'second-token'), 'the poll to see the new token', 5000);
      expect(await accepted(s.tokens, 'first')).toBe(false);
      expect((await s.metrics.reloads.get()).values.find((m) => m.labels.source === 'files' && m.labels.result === 'applied')?.value).toBe(
        1,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an empty, unreadable or bad file keeps the last good set, with one error line per failure and no token text', async () => {
    const v = volume({ VALID_TOKENS: 'good-token', JWT_SECRET: 's'.repeat(40) });
    const s = await start(
      sources({
        settings: { validTokens: ['good-token'], jwt: { ...jwtBase, secret: 's'.repeat(40) } },
        files: { VALID_TOKENS: v.path('VALID_TOKENS'), JWT_SECRET: v.path('JWT_SECRET') },
        pollMs: 0,
        watch: false,
      }),
    );
    const errors = () => s.lines().filter((l) => l.msg === 'token files not reloaded; keeping the last good set');
    v.swap({ VALID_TOKENS: '  \n', JWT_SECRET: 's'.repeat(40) });
    await s.tokens.reload('signal');
    await s.tokens.reload('signal');
    expect(errors()).toHaveLength(1);
    expect(errors()[0]?.err).toMatch(/^VALID_TOKENS_FILE: .* is empty$/);
    expect(await accepted(s.tokens, 'good-token')).toBe(true);
    v.swap({ VALID_TOKENS: 'good-token', JWT_SECRET: 'short-secret-text' });
    await s.tokens.reload('signal');
    expect(errors()[1]?.err).toBe('JWT_SECRET: must be at least 32 bytes (HS256 keys shorter than the hash are guessable)');
    rmSync(join(v.dir, '..v3', 'VALID_TOKENS'));
    await s.tokens.reload('signal');
    expect(errors()[2]?.err).toMatch(/VALID_TOKENS_FILE: cannot read .* \(ENOENT\)/);
    expect(await accepted(s.tokens, 'good-token')).toBe(true);
    expect(JSON.stringify(s.lines())).not.toContain('short-secret-text');
    expect((await s.metrics.reloads.get()).values.find((m) => m.labels.source === 'files' && m.labels.result === 'failed')?.value).toBe(4);
    v.swap({ VALID_TOKENS: 'fresh-token', JWT_SECRET: 't'.repeat(40) });
    await s.tokens.reload('signal');
    expect(await accepted(s.tokens, 'fresh-token')).toBe(true);
    expect(s.lines().some((l) => l.msg === 'token files readable again')).toBe(true);
  });

  it('JWT_SECRET_FILE rotation: tokens signed with the new secret pass, the old ones fail', async () => {
    const v = volume({ JWT_SECRET: 'a'.repeat(40) });
    const s = await start(
      sources({
        settings: { validTokens: [], jwt: { ...jwtBase, secret: 'a'.repeat(40) } },
        files: { JWT_SECRET: v.path('JWT_SECRET') },
        pollMs: 20,
        watch: false,
      }),
    );
    const sign = (secret: string) =>
      new SignJWT({ sites: '*' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('1h').sign(Buffer.from(secret));
    const oldToken = await sign('a'.repeat(40));
    expect(await accepted(s.tokens, oldToken)).toBe(true);
    v.swap({ JWT_SECRET: 'b'.repeat(40) + '\n' });
    await waitFor(async () => accepted(s.tokens, await sign('b'.repeat(40))), 'the new secret', 5000);
    expect(await s.tokens.verify(oldToken)).toMatchObject({ ok: false, code: CloseCode.InvalidToken });
  });

  it('JWT_JWKS_URL: a token with an unknown kid triggers one fetch, then passes', async () => {
    const pairs = await Promise.all(['k1', 'k2'].map(async (kid) => ({ kid, ...(await generateKeyPair('ES256', { extractable: true })) })));
    const jwk = async (p: (typeof pairs)[number]) => ({ ...(await exportJWK(p.publicKey)), kid: p.kid, alg: 'ES256' });
    let body = JSON.stringify({ keys: [await jwk(pairs[0]!)] });
    let requests = 0;
    const server = createServer((_req, res) => {
      requests += 1;
      res.writeHead(200, { 'cache-control': 'max-age=3600' }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
      const s = await start(sources({ settings: { validTokens: [], jwt: { ...jwtBase, jwksUrl: url } } }));
      const sign = (p: (typeof pairs)[number]) =>
        new SignJWT({ sites: '*' }).setProtectedHeader({ alg: 'ES256', kid: p.kid }).setExpirationTime('1h').sign(p.privateKey);
      expect(await accepted(s.tokens, await sign(pairs[0]!))).toBe(true);
      expect(requests).toBe(1);
      body = JSON.stringify({ keys: [await jwk(pairs[1]!)] });
      expect(await accepted(s.tokens, await sign(pairs[1]!))).toBe(true);
      expect(requests).toBe(2);
      // A bad token with a known kid costs no fetch.
      expect(await accepted(s.tokens, (await sign(pairs[1]!)).slice(0, -4) + 'AAAA')).toBe(false);
      expect(requests).toBe(2);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
