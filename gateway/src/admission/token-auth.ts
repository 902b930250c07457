import { createHash, createPublicKey, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import { createLocalJWKSet, errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { parseTokenEntries, sitesAllow, type JwtConfig } from '@matomo-live/shared';
import { CloseCode } from '@matomo-live/protocol';

/** Who a token belongs to, as far as the gateway needs to know. */
export interface TokenGrant {
  /** sha256 of the token (hex): a key for per-token limits; never log it whole, log tokenFingerprint(). */
  tokenKey: string;
  /** Sites the token may see; "*" = all. */
  sites: number[] | '*';
  /** Token kind, for metrics and logs. */
  kind: 'static' | 'jwt';
  /** When a signed token's session ends (its `exp`), ms since epoch; static tokens have none. */
  expiresAt?: number;
}

/** Why a token was refused: logged and counted, never with the token. `too-long`: `exp` beyond JWT_MAX_TTL. */
export type AuthRefusal = 'missing' | 'invalid' | 'expired' | 'too-long';

export type AuthResult =
  { ok: true; grant: TokenGrant } | { ok: false; code: CloseCode.InvalidToken | CloseCode.TokenExpired; reason: AuthRefusal };

export interface TokenAuthOptions {
  /** Static token entries, `token` or `token@1|3` (shared/src/config/token-scope.ts). Default []. */
  validTokens?: readonly string[];
  /** Signed-token settings. Default: none. */
  jwt?: JwtConfig;
  /** Clock for `exp` checks, ms. Default Date.now. */
  now?: () => number;
  /** Verified signed tokens remembered until their `exp` (a reconnect storm re-presents the same tokens). Default 10000; 0 = none. */
  jwtCacheSize?: number;
}

const ASYMMETRIC_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

/**
 * Checks client tokens; knows nothing of HTTP or WebSockets. Static tokens are
 * compared as sha256 digests (of the token part, without its `@sites` scope)
 * with timingSafeEqual over the whole list, so neither a token's prefix nor
 * its position leaks through timing.
 */
export class TokenAuth {
  private readonly staticTokens: Array<{ digest: Buffer; sites: number[] | '*' }>;
  private readonly jwtKeys: Array<{ key: KeyObject | JWTVerifyGetKey; algorithms: string[] }> = [];
  private readonly jwt: JwtConfig | undefined;
  private readonly now: () => number;
  /**
   * Grants of verified JWTs by the token's sha256 (hex), with the token's
   * `exp` in ms; a Map kept in insertion order, the oldest dropped first when
   * full. Only successes are kept: a bad token costs a verification every time.
   */
  private readonly verified = new Map<string, { grant: TokenGrant; expiresAt: number }>();
  private readonly cacheSize: number;

  constructor({ validTokens = [], jwt, now = Date.now, jwtCacheSize = 10_000 }: TokenAuthOptions) {
    this.staticTokens = parseTokenEntries(validTokens).map(({ token, sites }) => ({ digest: sha256(token), sites }));
    this.jwt = jwt;
    this.now = now;
    this.cacheSize = jwtCacheSize;
    if (jwt?.secret !== undefined) this.jwtKeys.push({ key: createSecretKey(Buffer.from(jwt.secret)), algorithms: ['HS256'] });
    if (jwt?.publicKeyPem !== undefined) this.jwtKeys.push({ key: createPublicKey(jwt.publicKeyPem), algorithms: ASYMMETRIC_ALGS });
    if (jwt?.jwks !== undefined) {
      this.jwtKeys.push({ key: createLocalJWKSet(jwt.jwks as Parameters<typeof createLocalJWKSet>[0]), algorithms: ASYMMETRIC_ALGS });
    }
  }

  async verify(token: string | undefined): Promise<AuthResult> {
    if (token === undefined || token === '') return { ok: false, code: CloseCode.InvalidToken, reason: 'missing' };
    const digest = sha256(token);
    // Every entry is compared; one token listed twice with two scopes sees both.
    let sites: number[] | '*' | undefined;
    for (const candidate of this.staticTokens) {
      if (timingSafeEqual(candidate.digest, digest)) sites = unionOf(sites, candidate.sites);
    }
    const tokenKey = digest.toString('hex');
    if (sites !== undefined) return { ok: true, grant: { tokenKey, sites, kind: 'static' } };
    if (this.jwtKeys.length === 0 || token.split('.').length !== 3) return { ok: false, code: CloseCode.InvalidToken, reason: 'invalid' };
    const cached = this.verified.get(tokenKey);
    if (cached !== undefined) {
      if (this.now() < cached.expiresAt) return { ok: true, grant: cached.grant };
      this.verified.delete(tokenKey);
    }
    let expired = false;
    for (const { key, algorithms } of this.jwtKeys) {
      try {
        const { payload } = await jwtVerify(token, key as KeyObject, {
          algorithms,
          issuer: this.jwt?.issuer,
          audience: this.jwt?.audience,
          currentDate: new Date(this.now()),
          requiredClaims: ['exp'],
        });
        const expiresAt = (payload.exp as number) * 1000;
        const maxTtl = this.jwt?.maxTtlSeconds;
        if (maxTtl !== undefined && expiresAt - this.now() > maxTtl * 1000) {
          return { ok: false, code: CloseCode.InvalidToken, reason: 'too-long' };
        }
        const grant: TokenGrant = { tokenKey, sites: this.sitesOf(payload), kind: 'jwt', expiresAt };
        this.remember(tokenKey, grant, expiresAt);
        return { ok: true, grant };
      } catch (error) {
        if (error instanceof joseErrors.JWTExpired) expired = true;
      }
    }
    return expired
      ? { ok: false, code: CloseCode.TokenExpired, reason: 'expired' }
      : { ok: false, code: CloseCode.InvalidToken, reason: 'invalid' };
  }

  /** Number of verified signed tokens remembered (for tests and metrics). */
  get cachedTokens(): number {
    return this.verified.size;
  }

  private remember(tokenKey: string, grant: TokenGrant, expiresAt: number): void {
    if (this.cacheSize <= 0) return;
    this.verified.delete(tokenKey);
    if (this.verified.size >= this.cacheSize) this.verified.delete(this.verified.keys().next().value as string);
    this.verified.set(tokenKey, { grant, expiresAt });
  }

  /** The sites claim: "*", [1, 2], ["1", "2"] or "1,2". Missing or malformed = no site (least privilege). */
  private sitesOf(payload: JWTPayload): number[] | '*' {
    const claim = payload[this.jwt?.sitesClaim ?? 'sites'];
    if (claim === '*') return '*';
    const list = typeof claim === 'string' ? claim.split(',') : Array.isArray(claim) ? claim : [];
    return list.map((s) => Number(typeof s === 'string' ? s.trim() : s)).filter((n) => Number.isSafeInteger(n) && n > 0);
  }
}

/** May this grant see the site? */
export function grantAllows(grant: TokenGrant, siteId: number): boolean {
  return sitesAllow(grant.sites, siteId);
}

function unionOf(a: number[] | '*' | undefined, b: number[] | '*'): number[] | '*' {
  if (a === undefined) return b;
  if (a === '*' || b === '*') return '*';
  return [...new Set([...a, ...b])];
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
