/**
 * Tokens as an attacker holding one would try them, against a real gateway
 * on a real port with real WebSocket clients: a scoped static token reading
 * another site, a signed token's session outliving its `exp`, a refresh that
 * widens the sites, a token that lives too long (issue 20, items 1 and 2).
 */
import { SignJWT } from 'jose';
import { CloseCode, authMessage } from '@matomo-live/protocol';
import { gatewayConfigFrom, MemorySnapshots, startGateway, type RunningGateway } from '@matomo-live/test-support/gateway';
import { content, TestClient } from '../support/harness';

const SECRET = 'session-tokens-e2e-secret-at-least-32-bytes';

jest.setTimeout(30_000);

describe('tokens against a real gateway', () => {
  let running: RunningGateway;

  beforeAll(async () => {
    const bus = new MemorySnapshots();
    for (const site of [1, 2]) await bus.publishContent(site, content(site, 10 * site), 1);
    const config = gatewayConfigFrom({
      PORT: '0',
      HOST: '127.0.0.1',
      MATOMO_SITE_IDS: '1,2',
      VALID_TOKENS: 'lobby-screen-token@1, wall-screen-token@1|2, mail@example.org',
      JWT_SECRET: SECRET,
      JWT_MAX_TTL: '1h',
      DASHBOARD_DIR: 'off',
      LOG_LEVEL: 'silent',
    });
    running = await startGateway(config, { feed: bus });
  });
  afterAll(() => running?.stop());

  const open = (token: string, site?: number) =>
    TestClient.connect(`${running.url}ws${site === undefined ? '' : `?site=${site}`}`, { protocols: ['matomo-live.v1', `token.${token}`] });

  /** Signed now, expiring `seconds` from now (exp has whole seconds: the session ends at the second). */
  async function signed(seconds: number, sites: unknown = [1]): Promise<{ token: string; exp: number }> {
    const exp = Math.floor(Date.now() / 1000) + seconds;
    const token = await new SignJWT({ sites }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(exp).sign(Buffer.from(SECRET));
    return { token, exp: exp * 1000 };
  }

  it('a scoped static token reads its sites and gets 4003 for another; a bare token with an @ stays literal', async () => {
    const own = open('lobby-screen-token', 1);
    await own.nextMessages(1);
    expect(own.json(0)).toMatchObject({ site: 1 });
    expect((await open('lobby-screen-token', 2).closed).code).toBe(CloseCode.SiteNotAllowed);
    // The scope is not part of the secret.
    const withScope = TestClient.connect(`${running.url}ws?site=1&token=${encodeURIComponent('lobby-screen-token@1')}`);
    expect((await withScope.closed).code).toBe(CloseCode.InvalidToken);
    const wall = open('wall-screen-token', 2);
    await wall.nextMessages(1);
    expect(wall.json(0)).toMatchObject({ site: 2 });
    const literal = TestClient.connect(`${running.url}ws?site=2&token=${encodeURIComponent('mail@example.org')}`);
    await literal.nextMessages(1);
    expect(literal.json(0)).toMatchObject({ site: 2 });
    for (const c of [own, wall, literal]) c.close();
  });

  it('holds /debug to the same scope', async () => {
    const debug = (site: number) =>
      fetch(`http://127.0.0.1:${running.port}/debug?site=${site}`, { headers: { Authorization: 'Bearer lobby-screen-token' } });
    expect((await debug(1)).status).toBe(200);
    expect((await debug(2)).status).toBe(403);
  });

  it('closes a 4-second signed token with 4002 shortly after its exp', async () => {
    const { token, exp } = await signed(4);
    const client = open(token, 1);
    await client.opened;
    const { code } = await client.closed;
    const closedAt = Date.now();
    expect(code).toBe(CloseCode.TokenExpired);
    expect(closedAt).toBeGreaterThanOrEqual(exp);
    expect(closedAt - exp).toBeLessThan(3000);
  });

  it('keeps a session refreshed before exp open past the first exp, until the fresh one’s', async () => {
    const first = await signed(3);
    const client = open(first.token, 1);
    await client.nextMessages(1);
    const second = await signed(6);
    expect(second.exp).toBeGreaterThan(first.exp);
    client.ws.send(authMessage(second.token));
    const { code } = await client.closed;
    const closedAt = Date.now();
    expect(code).toBe(CloseCode.TokenExpired);
    expect(closedAt).toBeGreaterThanOrEqual(second.exp);
  });

  it('closes with 4003 when a refresh asks for more sites, and 4001 for an invalid fresh token', async () => {
    const narrow = open((await signed(60, [1])).token, 1);
    await narrow.nextMessages(1);
    narrow.ws.send(authMessage((await signed(60, [1, 2])).token));
    expect((await narrow.closed).code).toBe(CloseCode.SiteNotAllowed);

    const other = open((await signed(60, [1])).token, 1);
    await other.nextMessages(1);
    other.ws.send(authMessage('wall-screen-token-but-wrong'));
    expect((await other.closed).code).toBe(CloseCode.InvalidToken);

    const malformed = open((await signed(60, [1])).token, 1);
    await malformed.nextMessages(1);
    malformed.ws.send('{"type":"auth","token":null}');
    expect((await malformed.closed).code).toBe(CloseCode.PolicyViolation);
  });

  it('refuses a token that lives longer than JWT_MAX_TTL (1h), at connect and as a refresh', async () => {
    expect((await open((await signed(2 * 3600)).token, 1).closed).code).toBe(CloseCode.InvalidToken);
    expect((await open((await signed(100 * 365 * 86_400)).token, 1).closed).code).toBe(CloseCode.InvalidToken);
    const client = open((await signed(3000)).token, 1);
    await client.nextMessages(1);
    client.ws.send(authMessage((await signed(2 * 3600)).token));
    expect((await client.closed).code).toBe(CloseCode.InvalidToken);
  });
});
