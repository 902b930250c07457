import { CloseCode } from '@matomo-live/protocol';
import { OpenTokens, type TokenHolder } from '../../src/admission/token-recheck';
import { TokenAuth } from '../../src/admission/token-auth';
import { createHash } from 'node:crypto';

const holder = (token: string, siteId = 1): TokenHolder & { token: string; tokenKey: string } => ({
  token,
  tokenKey: createHash('sha256').update(token).digest('hex'),
  info: { siteId },
});

describe('OpenTokens', () => {
  it('closes the connections of removed tokens with 4001 and keeps the others', async () => {
    const open = new OpenTokens<ReturnType<typeof holder>>();
    const a1 = holder('alpha');
    const a2 = holder('alpha');
    const b = holder('beta');
    for (const s of [a1, a2, b]) open.add(s, s.token);
    expect(open.size).toBe(2);
    const closed: Array<[string, CloseCode]> = [];
    const count = await open.recheck(new TokenAuth({ validTokens: ['beta', 'gamma'] }), (s, code) => closed.push([s.token, code]));
    expect(count).toBe(2);
    expect(closed).toEqual([
      ['alpha', CloseCode.InvalidToken],
      ['alpha', CloseCode.InvalidToken],
    ]);
    expect(open.size).toBe(1);
    expect(await open.recheck(new TokenAuth({ validTokens: ['beta'] }), () => undefined)).toBe(0);
  });

  it('a grant that no longer covers the site closes with 4003', async () => {
    const open = new OpenTokens<ReturnType<typeof holder>>();
    const s = holder('scoped', 2);
    open.add(s, s.token);
    const narrowed = {
      verify: async () => ({ ok: true as const, grant: { tokenKey: s.tokenKey, sites: [1], kind: 'static' as const } }),
    };
    const codes: CloseCode[] = [];
    await open.recheck(narrowed, (_s, code) => codes.push(code));
    expect(codes).toEqual([CloseCode.SiteNotAllowed]);
  });

  it('a closed connection is forgotten; re-checks run one after the other, the newest last', async () => {
    const open = new OpenTokens<ReturnType<typeof holder>>();
    const s = holder('alpha');
    open.add(s, s.token);
    const order: string[] = [];
    const first = open.recheck(
      {
        verify: async () => (
          order.push('first'),
          { ok: true as const, grant: { tokenKey: '', sites: '*' as const, kind: 'static' as const } }
        ),
      },
      () => undefined,
    );
    const second = open.recheck(new TokenAuth({ validTokens: [] }), () => order.push('closed'));
    await Promise.all([first, second]);
    expect(order).toEqual(['first', 'closed']);
    expect(open.size).toBe(0);
    open.remove(s);
    expect(open.size).toBe(0);
  });
});
