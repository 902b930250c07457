import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadGatewayConfig, reloadTokenSettings, tokenFilesOf, type TokenSettings } from '@matomo-live/shared';
import { configErrorLines } from '@matomo-live/test-support/config';

describe('token settings', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'token-settings-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };

  it('the config keeps the paths of the token files, and only those', () => {
    const tokens = file('tokens', 'a,b\n');
    const config = loadGatewayConfig(
      { REDIS_URL: 'redis://127.0.0.1:6379', VALID_TOKENS_FILE: tokens, JWT_ISSUER: 'x' },
      { dotenv: false },
    );
    expect(config.tokenFiles).toEqual({ VALID_TOKENS: tokens });
    expect(config.validTokens).toEqual(['a', 'b']);
    expect(tokenFilesOf({ JWT_JWKS_FILE: '/s/jwks', MATOMO_TOKEN_FILE: '/s/m', JWT_SECRET_FILE: '' })).toEqual({ JWT_JWKS: '/s/jwks' });
  });

  it('re-reads each file over the base settings, as at start', () => {
    const base: TokenSettings = {
      validTokens: ['old'],
      jwt: { secret: 'o'.repeat(32), publicKeyPem: undefined, jwks: undefined, issuer: 'iss', audience: undefined, sitesClaim: 'sites' },
    };
    const next = reloadTokenSettings(
      { VALID_TOKENS: file('tokens', ' new1 , new2\n'), JWT_JWKS: file('jwks', '{"keys":[{"kty":"EC"}]}') },
      base,
    );
    expect(next).toEqual({ validTokens: ['new1', 'new2'], jwt: { ...base.jwt, jwks: { keys: [{ kty: 'EC' }] } } });
    expect(base.validTokens).toEqual(['old']);
  });

  it('names the variable of an empty, unreadable or bad file, never its text', () => {
    const base: TokenSettings = { validTokens: ['old'], jwt: undefined };
    const lines = (files: Parameters<typeof reloadTokenSettings>[0]) => configErrorLines(() => reloadTokenSettings(files, base));
    expect(lines({ VALID_TOKENS: file('empty', '\n') })).toEqual([`VALID_TOKENS_FILE: ${join(dir, 'empty')} is empty`]);
    expect(lines({ VALID_TOKENS: join(dir, 'missing') })).toEqual([`VALID_TOKENS_FILE: cannot read ${join(dir, 'missing')} (ENOENT)`]);
    expect(lines({ JWT_JWKS: file('bad', 'secret-looking text') })).toEqual([
      'JWT_JWKS: must be a JWKS JSON document {"keys":[...]}; the text is not JSON',
    ]);
    expect(lines({ JWT_PUBLIC_KEY: file('pem', 'not a pem') })[0]).toMatch(/^JWT_PUBLIC_KEY: must be PEM text/);
    expect(() => reloadTokenSettings({ VALID_TOKENS: join(dir, 'missing') }, base)).toThrow(ConfigError);
    // Empty from the start (signed tokens only) stays allowed.
    expect(reloadTokenSettings({ VALID_TOKENS: file('still-empty', '') }, { validTokens: [], jwt: undefined })).toEqual({
      validTokens: [],
      jwt: undefined,
    });
  });
});
