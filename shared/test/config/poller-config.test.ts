import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPollerConfig } from '@matomo-live/shared';
import { configErrorLines } from '@matomo-live/test-support/config';

const base = { MATOMO_URL: 'https://matomo.example.org', MATOMO_TOKEN: 'secret', REDIS_URL: 'redis://127.0.0.1:6379' };
const noDotenv = { dotenv: false };

const errorLines = (env: Record<string, string>): string[] => configErrorLines(() => loadPollerConfig(env, noDotenv));

describe('loadPollerConfig', () => {
  it('applies the reference defaults', () => {
    const config = loadPollerConfig(base, noDotenv);
    expect(config).toMatchObject({ siteIds: [1], fetchIntervalMs: 1000, summaryIntervalMs: 60000, liveLimit: 5, publishVisitorIp: false });
    expect(config.todayIntervalMs).toBe(10_000);
  });

  it.each([
    [
      'http://matomo.example.org/',
      ['MATOMO_URL: plain http:// to matomo.example.org, not this machine: MATOMO_TOKEN travels in clear on the network; use https://'],
    ],
    ['http://10.1.2.3:8080/', [expect.stringMatching(/^MATOMO_URL: plain http:\/\/ to 10\.1\.2\.3,/)]],
    ['http://[2001:db8::1]/', [expect.stringMatching(/^MATOMO_URL: plain http:\/\/ to \[2001:db8::1\],/)]],
    ['https://matomo.example.org/', []],
    ['http://localhost:8090/', []],
    ['http://127.0.0.1:8090/', []],
    ['http://127.8.9.10/', []],
    ['http://[::1]:8090/', []],
  ])('MATOMO_URL %s: start-up warnings %j', (url, warnings) => {
    const config = loadPollerConfig({ ...base, MATOMO_URL: url }, noDotenv);
    expect(config.warnings).toEqual(warnings);
    expect(config.warnings.join()).not.toContain(base.MATOMO_TOKEN);
  });

  it('no plain-http warning for the demo (MATOMO_LIVE_DEMO: the simulator inside the stack)', () => {
    expect(loadPollerConfig({ ...base, MATOMO_URL: 'http://matomo-sim:8090/', MATOMO_LIVE_DEMO: '1' }, noDotenv).warnings).toEqual([]);
  });

  it('TODAY_INTERVAL is 0 (off) or at least 1000 ms', () => {
    expect(loadPollerConfig({ ...base, TODAY_INTERVAL: '0' }, noDotenv).todayIntervalMs).toBe(0);
    expect(loadPollerConfig({ ...base, TODAY_INTERVAL: '30000' }, noDotenv).todayIntervalMs).toBe(30_000);
    expect(errorLines({ ...base, TODAY_INTERVAL: '500' })).toEqual([expect.stringMatching(/^TODAY_INTERVAL: .*0 \(off\) or between 1000/)]);
    expect(errorLines({ ...base, TODAY_INTERVAL: '-1' })).toEqual([expect.stringMatching(/^TODAY_INTERVAL: /)]);
  });

  it.each([
    ['https://m.example.org', 'https://m.example.org/'],
    ['https://m.example.org/', 'https://m.example.org/'],
    ['https://m.example.org/path/index.php', 'https://m.example.org/path/'],
    ['https://m.example.org/path/index.php?module=API', 'https://m.example.org/path/'],
    ['http://m.example.org/path', 'http://m.example.org/path/'],
  ])('normalizes MATOMO_URL %s', (input, expected) => {
    expect(loadPollerConfig({ ...base, MATOMO_URL: input }, noDotenv).matomoUrl).toBe(expected);
  });

  it('accepts large intervals such as 12 hours', () => {
    expect(loadPollerConfig({ ...base, FETCH_INTERVAL: '43200000' }, noDotenv).fetchIntervalMs).toBe(43200000);
  });

  it('reads several sites', () => {
    expect(loadPollerConfig({ ...base, MATOMO_SITE_IDS: '3, 1,3,2' }, noDotenv).siteIds).toEqual([3, 1, 2]);
  });

  it('names every invalid variable on its own line', () => {
    const lines = errorLines({ MATOMO_URL: 'ftp://x', FETCH_INTERVAL: '1s', MATOMO_SITE_IDS: '1,a' });
    expect(lines).toHaveLength(5);
    expect(lines.map((l) => l.split(':')[0]).sort()).toEqual([
      'FETCH_INTERVAL',
      'MATOMO_SITE_IDS',
      'MATOMO_TOKEN',
      'MATOMO_URL',
      'REDIS_URL',
    ]);
  });

  it('requires REDIS_URL unless told otherwise', () => {
    const { REDIS_URL: _omit, ...withoutRedis } = base;
    expect(errorLines(withoutRedis)[0]).toMatch(/^REDIS_URL: required/);
    expect(loadPollerConfig(withoutRedis, { ...noDotenv, requireRedis: false }).redis).toBeUndefined();
  });

  it('reads secrets from *_FILE and refuses both forms at once', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    writeFileSync(join(dir, 'token'), 'from-file\n');
    const { MATOMO_TOKEN: _omit, ...rest } = base;
    expect(loadPollerConfig({ ...rest, MATOMO_TOKEN_FILE: join(dir, 'token') }, noDotenv).matomoToken).toBe('from-file');
    expect(errorLines({ ...base, MATOMO_TOKEN_FILE: join(dir, 'token') })[0]).toMatch(/^MATOMO_TOKEN_FILE: set together with MATOMO_TOKEN/);
    expect(errorLines({ ...rest, MATOMO_TOKEN_FILE: join(dir, 'missing') })[0]).toMatch(/^MATOMO_TOKEN_FILE: cannot read/);
  });

  it('reads .env from the working directory under the real environment', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    writeFileSync(join(dir, '.env'), 'MATOMO_TOKEN=dotenv-token\nLIVE_LIMIT=7\n');
    const config = loadPollerConfig({ ...base, LIVE_LIMIT: '9' }, { cwd: dir });
    expect(config.matomoToken).toBe('secret');
    expect(config.liveLimit).toBe(9);
    const { MATOMO_TOKEN: _omit, ...rest } = base;
    expect(loadPollerConfig(rest, { cwd: dir }).matomoToken).toBe('dotenv-token');
  });

  it('ignores *_FILE variables that are not its own (e.g. TF_CLI_CONFIG_FILE pointing nowhere)', () => {
    expect(loadPollerConfig({ ...base, TF_CLI_CONFIG_FILE: '/nonexistent/.terraformrc' }, noDotenv).matomoToken).toBe('secret');
  });

  it('never echoes a malformed REDIS_URL (it may hold a password)', () => {
    const lines = errorLines({ ...base, REDIS_URL: 'redis//:hunter2@host' });
    expect(lines.join('\n')).not.toContain('hunter2');
  });
});
