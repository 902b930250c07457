import { cleanEnv } from 'envalid';
import { jwksUrl, originList, parseJwks, proxyList, tokenList } from '../../src/config/gateway-validators';

/** One variable through envalid, as the config loader runs it: the value, or the error's text. */
function clean<T>(validator: ReturnType<typeof originList> | ReturnType<typeof jwksUrl>, value: string): T | string {
  try {
    return cleanEnv(
      { X: value },
      { X: validator },
      {
        reporter: ({ errors }) => {
          if (errors.X) throw errors.X;
        },
      },
    ).X as T;
  } catch (error) {
    return (error as Error).message;
  }
}

describe('gateway validators', () => {
  it('normalizes origins and refuses what is not one', () => {
    expect(clean(originList(), 'https://a.example/, http://b.example:8080')).toEqual(['https://a.example', 'http://b.example:8080']);
    expect(clean(originList(), 'a.example')).toMatch(/is not an origin/);
  });

  it('expands loopback, keeps host names and refuses junk in TRUST_PROXY', () => {
    expect(clean(proxyList(), 'loopback, nginx, 10.1.2.3')).toEqual(['127.0.0.0/8', '::1/128', 'nginx', '10.1.2.3/32']);
    expect(typeof clean(proxyList(), 'not a host!')).toBe('string');
  });

  it('takes https JWKS URLs, http only to loopback, never credentials', () => {
    expect(clean(jwksUrl(), 'https://idp.example.org/jwks.json')).toBe('https://idp.example.org/jwks.json');
    expect(clean(jwksUrl(), 'http://127.0.0.1:9000/jwks')).toBe('http://127.0.0.1:9000/jwks');
    expect(clean(jwksUrl(), 'http://idp.example.org/jwks')).toMatch(/https:\/\//);
    expect(clean(jwksUrl(), 'https://u:p@idp.example.org/jwks')).toMatch(/credentials/);
  });

  it('reads a JWKS document and refuses one without keys', () => {
    expect(parseJwks('{"keys":[{"kty":"oct"}]}')).toEqual({ keys: [{ kty: 'oct' }] });
    expect(() => parseJwks('{"keys":[]}')).toThrow(/non-empty "keys"/);
    expect(() => parseJwks('nope')).toThrow(/not JSON/);
  });

  it('keeps scoped token entries as written and refuses an entry without a token', () => {
    expect(clean(tokenList(), 'abc@1|3, plain')).toEqual(['abc@1|3', 'plain']);
    expect(clean(tokenList(), '@1')).toMatch(/entry 1/);
  });
});
