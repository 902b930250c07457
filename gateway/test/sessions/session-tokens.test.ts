import { SignJWT } from 'jose';
import { CloseCode } from '@matomo-live/protocol';
import { silentLogger } from '@matomo-live/test-support/logger';
import { TokenAuth, type TokenGrant } from '../../src/admission/token-auth';
import { GatewayMetrics } from '../../src/metrics/gateway-metrics';
import { SessionTokens, type TokenHolder } from '../../src/sessions/session-tokens';
import { ManualClock } from '../support/manual-clock';

const secret = 'session-tokens-test-secret-32-bytes!';
const jwt = {
  secret,
  publicKeyPem: undefined,
  jwks: undefined,
  issuer: undefined,
  audience: undefined,
  sitesClaim: 'sites',
  maxTtlSeconds: undefined,
};
const T0 = 1_700_000_000_000;

class Holder implements TokenHolder {
  readonly closes: CloseCode[] = [];
  constructor(readonly info = { ip: '127.0.0.1', siteId: 1 }) {}
  close(code: CloseCode): void {
    this.closes.push(code);
  }
}

describe('SessionTokens', () => {
  let clock: ManualClock;
  let auth: TokenAuth;
  let tokens: SessionTokens<Holder>;
  let metrics: GatewayMetrics;

  beforeEach(() => {
    clock = new ManualClock(T0);
    auth = new TokenAuth({ validTokens: ['static-1@1', 'static-all'], jwt, now: () => clock.now() });
    metrics = new GatewayMetrics();
    tokens = new SessionTokens({ verify: (token) => auth.verify(token), clock, metrics, logger: silentLogger });
  });
  afterEach(() => tokens.dispose());

  /** A token signed now (on the test clock), valid for `seconds`. */
  const signed = (seconds: number, sites: unknown = [1]) =>
    new SignJWT({ sites })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime(Math.floor(clock.now() / 1000) + seconds)
      .sign(Buffer.from(secret));

  async function admitted(token: string): Promise<TokenGrant> {
    const result = await auth.verify(token);
    if (!result.ok) throw new Error(`not admitted: ${result.reason}`);
    return result.grant;
  }

  it('closes a signed token session with 4002 when its exp passes, not before', async () => {
    const session = new Holder();
    tokens.track(session, await admitted(await signed(4)));
    expect(tokens.deadlineOf(session)).toBe(T0 + 4000);
    clock.advance(3999);
    expect(session.closes).toEqual([]);
    clock.advance(1);
    expect(session.closes).toEqual([CloseCode.TokenExpired]);
    expect(tokens.deadlineOf(session)).toBeUndefined();
  });

  it('sets no deadline for a static token, and none after the session is forgotten', async () => {
    const fixed = new Holder();
    tokens.track(fixed, await admitted('static-all'));
    expect(tokens.deadlineOf(fixed)).toBeUndefined();
    const gone = new Holder();
    tokens.track(gone, await admitted(await signed(4)));
    tokens.forget(gone);
    clock.advance(60_000);
    expect([fixed.closes, gone.closes]).toEqual([[], []]);
  });

  it('moves the deadline to a fresh token’s exp', async () => {
    const session = new Holder();
    tokens.track(session, await admitted(await signed(4)));
    clock.advance(3000);
    await tokens.refresh(session, await signed(10));
    expect(tokens.deadlineOf(session)).toBe(T0 + 13_000);
    clock.advance(5000);
    expect(session.closes).toEqual([]);
    clock.advance(5000);
    expect(session.closes).toEqual([CloseCode.TokenExpired]);
  });

  it('takes a static token as a fresh one: no deadline any more', async () => {
    const session = new Holder();
    tokens.track(session, await admitted(await signed(4)));
    await tokens.refresh(session, 'static-1');
    clock.advance(60_000);
    expect(session.closes).toEqual([]);
  });

  it.each([
    ['an invalid token', async () => 'not-a-token', CloseCode.InvalidToken],
    ['a token with more sites', async () => signed(60, [1, 2]), CloseCode.SiteNotAllowed],
    ['a token for all sites', async () => signed(60, '*'), CloseCode.SiteNotAllowed],
    ['a token without this site', async () => signed(60, []), CloseCode.SiteNotAllowed],
    ['a static token for all sites', async () => 'static-all', CloseCode.SiteNotAllowed],
  ])('closes on %s', async (_what, fresh, code) => {
    const session = new Holder();
    tokens.track(session, await admitted(await signed(30, [1])));
    await tokens.refresh(session, await fresh());
    expect(session.closes).toEqual([code]);
    clock.advance(60_000);
    expect(session.closes).toEqual([code]);
  });

  it('closes with 4002 on an expired fresh token', async () => {
    const session = new Holder();
    const old = await signed(2);
    tokens.track(session, await admitted(await signed(30)));
    clock.advance(3000);
    await tokens.refresh(session, old);
    expect(session.closes).toEqual([CloseCode.TokenExpired]);
  });

  it('accepts fewer sites, and then holds the session to those', async () => {
    const session = new Holder();
    tokens.track(session, await admitted(await signed(30, [1, 2, 3])));
    await tokens.refresh(session, await signed(30, [1, 2]));
    await tokens.refresh(session, await signed(30, [1, 3]));
    expect(session.closes).toEqual([CloseCode.SiteNotAllowed]);
  });

  it('counts only the latest of two refreshes in flight', async () => {
    const session = new Holder();
    tokens.track(session, await admitted(await signed(4)));
    const [bad, good] = ['not-a-token', await signed(60)];
    await Promise.all([tokens.refresh(session, bad), tokens.refresh(session, good)]);
    expect(session.closes).toEqual([]);
    expect(tokens.deadlineOf(session)).toBe(T0 + 60_000);
  });

  it('keeps one timer for many sessions', async () => {
    const sessions = Array.from({ length: 50 }, () => new Holder());
    for (const [i, session] of sessions.entries()) tokens.track(session, await admitted(await signed(10 + i)));
    expect(clock.timers.size).toBe(1);
    clock.advance(10_000 + 24_500);
    expect(sessions.filter((s) => s.closes.length > 0)).toHaveLength(25);
  });
});
