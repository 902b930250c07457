import { SignJWT } from 'jose';
import { CloseCode } from '@matomo-live/protocol';
import { grantAllows, TokenAuth } from '../../src/admission/token-auth';

const secret = 'token-auth-test-secret-32-bytes-long!';
const jwt = {
  secret,
  publicKeyPem: undefined,
  jwks: undefined,
  issuer: 'matomo-live',
  audience: undefined,
  sitesClaim: 'sites',
  maxTtlSeconds: undefined,
};
const sign = (claims: Record<string, unknown>, issuer = 'matomo-live') =>
  new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuer(issuer).setExpirationTime(2_000_000_000).sign(Buffer.from(secret));

describe('TokenAuth', () => {
  it('accepts static tokens exactly, with access to every site', async () => {
    const auth = new TokenAuth({ validTokens: ['alpha', 'beta'] });
    const ok = await auth.verify('beta');
    expect(ok).toMatchObject({ ok: true, grant: { kind: 'static', sites: '*' } });
    expect(await auth.verify('bet')).toEqual({ ok: false, code: CloseCode.InvalidToken, reason: 'invalid' });
    expect(await auth.verify('')).toEqual({ ok: false, code: CloseCode.InvalidToken, reason: 'missing' });
    expect(await auth.verify(undefined)).toMatchObject({ reason: 'missing' });
  });

  it('gives a scoped static token only its sites, compares only its token part, and keeps other @ literal', async () => {
    const auth = new TokenAuth({ validTokens: ['lobby-screen@1', 'wall-screen@1|3', 'mail@example.org', 'twice@2', 'twice@4'] });
    expect(await auth.verify('lobby-screen')).toMatchObject({ ok: true, grant: { kind: 'static', sites: [1] } });
    expect(await auth.verify('wall-screen')).toMatchObject({ ok: true, grant: { sites: [1, 3] } });
    expect(await auth.verify('mail@example.org')).toMatchObject({ ok: true, grant: { sites: '*' } });
    expect(await auth.verify('twice')).toMatchObject({ ok: true, grant: { sites: [2, 4] } });
    // The scope is configuration, not part of the secret: presenting it is a wrong token.
    expect(await auth.verify('lobby-screen@1')).toMatchObject({ ok: false, reason: 'invalid' });
    const lobby = await auth.verify('lobby-screen');
    if (!lobby.ok) throw new Error(lobby.reason);
    expect([grantAllows(lobby.grant, 1), grantAllows(lobby.grant, 2)]).toEqual([true, false]);
    // The grant's key is the token's digest, so per-token limits count the token, not the entry.
    const { createHash } = await import('node:crypto');
    expect(lobby.grant.tokenKey).toBe(createHash('sha256').update('lobby-screen').digest('hex'));
  });

  it('refuses signed tokens whose exp is further away than JWT_MAX_TTL, and says when a session ends', async () => {
    const now = 1_000_000_000_000;
    const auth = new TokenAuth({ jwt: { ...jwt, maxTtlSeconds: 3600 }, now: () => now });
    const until = (exp: number) =>
      new SignJWT({ sites: [1] })
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuer('matomo-live')
        .setExpirationTime(exp)
        .sign(Buffer.from(secret));
    expect(await auth.verify(await until(now / 1000 + 3600))).toMatchObject({ ok: true, grant: { expiresAt: now + 3_600_000 } });
    expect(await auth.verify(await until(now / 1000 + 3601))).toEqual({ ok: false, code: CloseCode.InvalidToken, reason: 'too-long' });
    expect(await auth.verify(await until(now / 1000 + 100 * 365 * 86_400))).toMatchObject({ ok: false, reason: 'too-long' });
    const staticGrant = await new TokenAuth({ validTokens: ['s'] }).verify('s');
    expect(staticGrant).toMatchObject({ ok: true, grant: { kind: 'static' } });
    expect(staticGrant.ok && 'expiresAt' in staticGrant.grant).toBe(false);
  });

  it('reads the sites claim in its forms; missing means no site', async () => {
    const auth = new TokenAuth({ jwt, now: () => 1_000_000_000_000 });
    const sites = async (claims: Record<string, unknown>) => {
      const result = await auth.verify(await sign(claims));
      if (!result.ok) throw new Error(result.reason);
      return result.grant.sites;
    };
    expect(await sites({ sites: '*' })).toBe('*');
    expect(await sites({ sites: [1, '2'] })).toEqual([1, 2]);
    expect(await sites({ sites: '3, 4' })).toEqual([3, 4]);
    expect(await sites({})).toEqual([]);
    expect(grantAllows({ tokenKey: '', kind: 'jwt', sites: [] }, 1)).toBe(false);
  });

  it('checks issuer and expiry with the injected clock', async () => {
    const token = await sign({ sites: '*' });
    expect(await new TokenAuth({ jwt, now: () => 2_000_000_001_000 }).verify(token)).toMatchObject({
      ok: false,
      code: CloseCode.TokenExpired,
    });
    expect(await new TokenAuth({ jwt }).verify(await sign({ sites: '*' }, 'someone-else'))).toMatchObject({
      ok: false,
      code: CloseCode.InvalidToken,
    });
    const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"sites":"*","exp":2000000000}').toString('base64url')}.`;
    expect(await new TokenAuth({ jwt }).verify(unsigned)).toMatchObject({ ok: false, code: CloseCode.InvalidToken });
  });

  describe('the cache of verified signed tokens', () => {
    const signUntil = (exp: number, claims: Record<string, unknown> = { sites: [1] }) =>
      new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuer('matomo-live').setExpirationTime(exp).sign(Buffer.from(secret));

    it('answers a token seen before without verifying it again, until its exp', async () => {
      let now = 1_000_000_000_000;
      const auth = new TokenAuth({ jwt, now: () => now });
      const token = await signUntil(1_000_000_060);
      const first = await auth.verify(token);
      expect(first).toMatchObject({ ok: true, grant: { kind: 'jwt', sites: [1] } });
      expect(auth.cachedTokens).toBe(1);
      // Proof that the second answer is the cache's: verifying would now fail (the key is gone).
      (auth as unknown as { jwtKeys: unknown[] }).jwtKeys.length = 0;
      (auth as unknown as { jwtKeys: unknown[] }).jwtKeys.push({ key: 'not a key', algorithms: ['HS256'] });
      expect(await auth.verify(token)).toEqual(first);
      now = 1_000_000_060_000;
      expect(await auth.verify(token)).toMatchObject({ ok: false });
      expect(auth.cachedTokens).toBe(0);
    });

    it('keeps only successes, and at most jwtCacheSize tokens (the oldest go first)', async () => {
      const auth = new TokenAuth({ jwt, now: () => 1_000_000_000_000, jwtCacheSize: 2 });
      const tokens = await Promise.all([1, 2, 3].map((site) => signUntil(2_000_000_000, { sites: [site] })));
      expect(await auth.verify(`${tokens[0]!.slice(0, -2)}xx`)).toMatchObject({ ok: false, reason: 'invalid' });
      expect(auth.cachedTokens).toBe(0);
      for (const token of tokens) expect(await auth.verify(token)).toMatchObject({ ok: true });
      expect(auth.cachedTokens).toBe(2);
      const cache = (auth as unknown as { verified: Map<string, unknown> }).verified;
      const { createHash } = await import('node:crypto');
      const keyOf = (token: string) => createHash('sha256').update(token).digest('hex');
      expect([...cache.keys()]).toEqual([keyOf(tokens[1]!), keyOf(tokens[2]!)]);
    });

    it('is off with jwtCacheSize 0', async () => {
      const auth = new TokenAuth({ jwt, now: () => 1_000_000_000_000, jwtCacheSize: 0 });
      expect(await auth.verify(await signUntil(2_000_000_000))).toMatchObject({ ok: true });
      expect(auth.cachedTokens).toBe(0);
    });
  });
});
