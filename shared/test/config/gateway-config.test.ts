import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadGatewayConfig } from '@matomo-live/shared';
import { configErrorLines } from '@matomo-live/test-support/config';

const base = { REDIS_URL: 'redis://127.0.0.1:6379', VALID_TOKENS: 'tok' };
const noDotenv = { dotenv: false };

const errorLines = (env: Record<string, string | undefined>, options = {}): string[] =>
  configErrorLines(() => loadGatewayConfig(env, { ...noDotenv, ...options }));

describe('loadGatewayConfig', () => {
  it('applies the documented defaults', () => {
    expect(loadGatewayConfig(base, noDotenv)).toMatchObject({
      port: 8080,
      siteIds: [1],
      defaultSiteId: 1,
      validTokens: ['tok'],
      jwt: undefined,
      tls: undefined,
      allowedOrigins: undefined,
      trustProxy: [],
      heartbeatIntervalMs: 25_000,
      drainWindowMs: 5000,
      maxPayloadBytes: 4096,
      sendBufferLimitBytes: 1024 * 1024,
      perMessageDeflate: false,
      dashboardDir: 'auto',
      redisPrefix: 'matomo-live:',
    });
  });

  it('limits wrong tokens to 30 per address and minute by default (FAILED_AUTH_PER_IP)', () => {
    expect(loadGatewayConfig(base, noDotenv).failedAuthPerIp).toBe(30);
    expect(loadGatewayConfig({ ...base, FAILED_AUTH_PER_IP: '500' }, noDotenv).failedAuthPerIp).toBe(500);
    expect(errorLines({ ...base, FAILED_AUTH_PER_IP: '0' })).toEqual([expect.stringMatching(/^FAILED_AUTH_PER_IP: /)]);
  });

  it('refuses the public demo token of .env.example unless MATOMO_LIVE_DEMO says the demo runs', () => {
    const demoToken = 'demo-token-public-not-secret';
    expect(errorLines({ ...base, VALID_TOKENS: demoToken })).toEqual([expect.stringMatching(/^VALID_TOKENS: holds the public demo token/)]);
    // Reported with the other bad lines of the same run.
    expect(
      errorLines({ ...base, VALID_TOKENS: demoToken, PORT: 'http' })
        .map((l) => l.split(':')[0])
        .sort(),
    ).toEqual(['PORT', 'VALID_TOKENS']);
    const demo = loadGatewayConfig({ ...base, VALID_TOKENS: demoToken, MATOMO_LIVE_DEMO: '1' }, noDotenv);
    expect(demo).toMatchObject({ demo: true, validTokens: [demoToken], warnings: [] });
    const dir = mkdtempSync(join(tmpdir(), 'demo-token-'));
    writeFileSync(join(dir, 'tokens'), `${demoToken}\n`);
    expect(errorLines({ ...base, VALID_TOKENS: undefined, VALID_TOKENS_FILE: join(dir, 'tokens') })).toEqual([
      expect.stringMatching(/^VALID_TOKENS: holds the public demo token/),
    ]);
  });

  it('warns (without the token) about short static tokens, except in the demo', () => {
    expect(loadGatewayConfig({ ...base, VALID_TOKENS: 'a-long-screen-token-0123' }, noDotenv).warnings).toEqual([]);
    const { warnings, demo } = loadGatewayConfig({ ...base, VALID_TOKENS: 'tok' }, noDotenv);
    expect(demo).toBe(false);
    expect(warnings).toEqual([expect.stringMatching(/^VALID_TOKENS: 1 static token is shorter than 16 characters/)]);
    expect(loadGatewayConfig({ ...base, VALID_TOKENS: 'tok', MATOMO_LIVE_DEMO: 'true' }, noDotenv).warnings).toEqual([]);
  });

  it('trims VALID_TOKENS as the reference did and takes the first of MATOMO_SITE_IDS as the default site', () => {
    const config = loadGatewayConfig({ ...base, VALID_TOKENS: ' a, b ,,c ', MATOMO_SITE_IDS: '4,2' }, noDotenv);
    expect(config.validTokens).toEqual(['a', 'b', 'c']);
    expect(config).toMatchObject({ siteIds: [4, 2], defaultSiteId: 4 });
  });

  it('reports every bad variable, one line each', () => {
    const lines = errorLines({ PORT: 'http', DRAIN_WINDOW: '20000', TRUST_PROXY: '10.0.0.0/99', SSL_KEY: '/k.pem' });
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^PORT: /),
        expect.stringMatching(/^DRAIN_WINDOW: must be between 0 and 10000/),
        expect.stringMatching(/^TRUST_PROXY: "10.0.0.0\/99"/),
        expect.stringMatching(/^REDIS_URL: required/),
        expect.stringMatching(/^VALID_TOKENS: required/),
        expect.stringMatching(/^SSL_CERT: required when SSL_KEY is set/),
      ]),
    );
    expect(lines).toHaveLength(6);
  });

  it('does not need REDIS_URL in single-process mode, nor any MATOMO_* variable', () => {
    expect(loadGatewayConfig({ VALID_TOKENS: 'tok' }, { ...noDotenv, requireRedis: false }).redis).toBeUndefined();
  });

  it('keeps scoped VALID_TOKENS entries as given and refuses a bad scope in one line that does not show the token', () => {
    expect(loadGatewayConfig({ ...base, VALID_TOKENS: 'lobby@1, wall@1|3, a@b' }, noDotenv).validTokens).toEqual([
      'lobby@1',
      'wall@1|3',
      'a@b',
    ]);
    const lines = errorLines({ ...base, VALID_TOKENS: 'fine, very-secret@0' });
    expect(lines).toEqual(['VALID_TOKENS: entry 2: site 0 in a scope is not a site id (a whole number ≥ 1)']);
  });

  it('reads scopes from VALID_TOKENS_FILE the same way', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-scoped-'));
    writeFileSync(join(dir, 'tokens'), 'lobby@1,wall@1|3\n');
    expect(loadGatewayConfig({ REDIS_URL: base.REDIS_URL, VALID_TOKENS_FILE: join(dir, 'tokens') }, noDotenv).validTokens).toEqual([
      'lobby@1',
      'wall@1|3',
    ]);
    writeFileSync(join(dir, 'tokens'), 'lobby@0');
    expect(errorLines({ REDIS_URL: base.REDIS_URL, VALID_TOKENS_FILE: join(dir, 'tokens') })).toEqual([
      expect.stringMatching(/^VALID_TOKENS: entry 1: site 0 in a scope/),
    ]);
  });

  it('reads JWT_MAX_TTL as seconds or a duration', () => {
    const withKey = { ...base, JWT_SECRET: 'x'.repeat(32) };
    expect(loadGatewayConfig(withKey, noDotenv).jwt?.maxTtlSeconds).toBeUndefined();
    expect(loadGatewayConfig({ ...withKey, JWT_MAX_TTL: '12h' }, noDotenv).jwt?.maxTtlSeconds).toBe(43_200);
    expect(loadGatewayConfig({ ...withKey, JWT_MAX_TTL: '600' }, noDotenv).jwt?.maxTtlSeconds).toBe(600);
    expect(errorLines({ ...withKey, JWT_MAX_TTL: 'forever' })).toEqual([
      expect.stringMatching(/^JWT_MAX_TTL: must be seconds or a duration/),
    ]);
  });

  it('accepts JWT settings instead of static tokens, rejects a short HS256 secret', () => {
    const jwks = JSON.stringify({ keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y' }] });
    expect(loadGatewayConfig({ REDIS_URL: base.REDIS_URL, JWT_JWKS: jwks }, noDotenv).jwt).toMatchObject({
      sitesClaim: 'sites',
      jwks: JSON.parse(jwks),
    });
    expect(errorLines({ REDIS_URL: base.REDIS_URL, JWT_SECRET: 'short' })).toEqual([
      expect.stringMatching(/^JWT_SECRET: must be at least 32 bytes/),
    ]);
    expect(errorLines({ ...base, JWT_JWKS: '{"keys":[]}' })).toEqual([expect.stringMatching(/^JWT_JWKS: /)]);
  });

  it("reads secrets from *_FILE, but never an unrelated *_FILE or OpenSSL's SSL_CERT_FILE", () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-config-'));
    writeFileSync(join(dir, 'tokens'), 'from-file\n');
    const config = loadGatewayConfig(
      {
        REDIS_URL: base.REDIS_URL,
        VALID_TOKENS_FILE: join(dir, 'tokens'),
        SSL_CERT_FILE: '/etc/ssl/certs/ca-certificates.crt',
        TF_CLI_CONFIG_FILE: '/nonexistent',
      },
      noDotenv,
    );
    expect(config.validTokens).toEqual(['from-file']);
    expect(config.tls).toBeUndefined();
  });

  it('takes SSL_KEY/SSL_CERT as paths (the reference) or PEM text', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-tls-'));
    writeFileSync(join(dir, 'key.pem'), '-----BEGIN PRIVATE KEY-----\nkey\n');
    const config = loadGatewayConfig({ ...base, SSL_KEY: join(dir, 'key.pem'), SSL_CERT: '-----BEGIN CERTIFICATE-----\ncert\n' }, noDotenv);
    expect(config.tls).toEqual({ key: '-----BEGIN PRIVATE KEY-----\nkey\n', cert: '-----BEGIN CERTIFICATE-----\ncert\n' });
    expect(errorLines({ ...base, SSL_KEY: join(dir, 'missing.pem'), SSL_CERT: join(dir, 'key.pem') })).toEqual([
      expect.stringMatching(/^SSL_KEY: cannot read .*missing\.pem \(ENOENT\)/),
    ]);
  });

  it('normalizes origins and proxies; DASHBOARD_DIR "" or "off" turns the dashboard off', () => {
    const config = loadGatewayConfig(
      { ...base, ALLOWED_ORIGINS: 'https://a.example/, http://b.example:8080', TRUST_PROXY: 'loopback, 10.0.0.0/8, 192.168.1.1, Nginx' },
      noDotenv,
    );
    expect(config.allowedOrigins).toEqual(['https://a.example', 'http://b.example:8080']);
    expect(config.trustProxy).toEqual(['127.0.0.0/8', '::1/128', '10.0.0.0/8', '192.168.1.1/32', 'nginx']);
    expect(loadGatewayConfig({ ...base, DASHBOARD_DIR: '' }, noDotenv).dashboardDir).toBeNull();
    expect(loadGatewayConfig({ ...base, DASHBOARD_DIR: 'off' }, noDotenv).dashboardDir).toBeNull();
    expect(loadGatewayConfig({ ...base, DASHBOARD_DIR: '/srv/dash' }, noDotenv).dashboardDir).toBe('/srv/dash');
  });

  it('JWT_JWKS_URL: https, or http to loopback; not with JWT_JWKS; enough alone', () => {
    const env = { REDIS_URL: 'redis://127.0.0.1:6379' };
    expect(loadGatewayConfig({ ...env, JWT_JWKS_URL: 'https://idp.example.org/jwks.json' }, noDotenv).jwt).toMatchObject({
      jwksUrl: 'https://idp.example.org/jwks.json',
      jwks: undefined,
    });
    expect(loadGatewayConfig({ ...env, JWT_JWKS_URL: 'http://127.0.0.1:9000/jwks' }, noDotenv).jwt?.jwksUrl).toBe(
      'http://127.0.0.1:9000/jwks',
    );
    expect(errorLines({ ...env, JWT_JWKS_URL: 'http://idp.example.org/jwks' })).toEqual([
      'JWT_JWKS_URL: must be an https:// URL (http:// only to localhost, 127.0.0.0/8 or [::1])',
    ]);
    expect(errorLines({ ...env, JWT_JWKS_URL: 'https://idp.example.org/jwks', JWT_JWKS: '{"keys":[{}]}' })).toEqual([
      'JWT_JWKS_URL: set together with JWT_JWKS; set only one of them',
    ]);
  });
});
