import { SignJWT } from 'jose';
import { CloseCode } from '@matomo-live/protocol';
import { grantAllows, TokenAuth } from '../src/token-auth';

const secret = 'token-auth-test-secret-32-bytes-long!';
const jwt = { secret, publicKeyPem: undefined, jwks: undefined, issuer: 'matomo-live', audience: undefined, sitesClaim: 'sites' };
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
});
