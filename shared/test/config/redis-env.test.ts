import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeRedis, loadGatewayConfig, loadPollerConfig, type RawEnv } from '@matomo-live/shared';
import { configErrorLines } from '@matomo-live/test-support/config';

const poller = { MATOMO_URL: 'https://matomo.example.org/', MATOMO_TOKEN: 'secret' };
const gateway = { VALID_TOKENS: 'tok' };
const noDotenv = { dotenv: false };

const pollerRedis = (env: RawEnv, requireRedis = true) => loadPollerConfig({ ...poller, ...env }, { ...noDotenv, requireRedis }).redis;
const errors = (env: RawEnv, requireRedis = true): string[] =>
  configErrorLines(() => loadPollerConfig({ ...poller, ...env }, { ...noDotenv, requireRedis }));

describe('the three Redis modes', () => {
  it('REDIS_URL: one Redis, credentials from the URL or apart', () => {
    expect(pollerRedis({ REDIS_URL: 'redis://redis:6379' })).toEqual({
      mode: 'single',
      url: 'redis://redis:6379',
      username: undefined,
      password: undefined,
    });
    expect(pollerRedis({ REDIS_URL: 'rediss://cache.example.org:6380/2', REDIS_USERNAME: 'live', REDIS_PASSWORD: 'pw' })).toMatchObject({
      mode: 'single',
      url: 'rediss://cache.example.org:6380/2',
      username: 'live',
      password: 'pw',
    });
  });

  it('REDIS_SENTINELS: addresses with default ports, master name default mymaster, passwords and TLS', () => {
    expect(pollerRedis({ REDIS_SENTINELS: 's1:26380, s2 ,[::1]:26381' })).toEqual({
      mode: 'sentinel',
      sentinels: [
        { host: 's1', port: 26380 },
        { host: 's2', port: 26379 },
        { host: '::1', port: 26381 },
      ],
      masterName: 'mymaster',
      username: undefined,
      password: undefined,
      sentinelPassword: undefined,
      tls: false,
    });
    expect(
      pollerRedis({
        REDIS_SENTINELS: 's1',
        REDIS_SENTINEL_MASTER: 'live',
        REDIS_PASSWORD: 'data',
        REDIS_SENTINEL_PASSWORD: 'sent',
        REDIS_TLS: 'true',
      }),
    ).toMatchObject({ masterName: 'live', password: 'data', sentinelPassword: 'sent', tls: true });
  });

  it('REDIS_CLUSTER_NODES: seed nodes with default port 6379, the same credentials and TLS', () => {
    expect(pollerRedis({ REDIS_CLUSTER_NODES: 'c1:7000,c2', REDIS_USERNAME: 'live', REDIS_PASSWORD: 'pw', REDIS_TLS: 'yes' })).toEqual({
      mode: 'cluster',
      nodes: [
        { host: 'c1', port: 7000 },
        { host: 'c2', port: 6379 },
      ],
      username: 'live',
      password: 'pw',
      tls: true,
    });
  });

  it('the gateway reads the same variables, and the seq-check interval (default 2 s, 0 = off)', () => {
    const config = loadGatewayConfig({ ...gateway, REDIS_CLUSTER_NODES: 'c1:7000' }, noDotenv);
    expect(config.redis).toMatchObject({ mode: 'cluster', nodes: [{ host: 'c1', port: 7000 }] });
    expect(config.seqCheckIntervalMs).toBe(2000);
    expect(loadGatewayConfig({ ...gateway, REDIS_URL: 'redis://r', REDIS_SEQ_CHECK_INTERVAL: '0' }, noDotenv).seqCheckIntervalMs).toBe(0);
  });

  it('reads the passwords from *_FILE (mounted secrets)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'redis-env-'));
    writeFileSync(join(dir, 'data'), 'from-file\n');
    writeFileSync(join(dir, 'sentinel'), 'sentinel-file\n');
    expect(
      pollerRedis({ REDIS_SENTINELS: 's1', REDIS_PASSWORD_FILE: join(dir, 'data'), REDIS_SENTINEL_PASSWORD_FILE: join(dir, 'sentinel') }),
    ).toMatchObject({ password: 'from-file', sentinelPassword: 'sentinel-file' });
  });

  it('none at all: the single-process mode runs in memory', () => {
    expect(pollerRedis({}, false)).toBeUndefined();
    expect(loadGatewayConfig(gateway, { ...noDotenv, requireRedis: false }).redis).toBeUndefined();
  });
});

describe('bad combinations: one line per variable', () => {
  it('no mode where one is required', () => {
    expect(errors({})).toEqual([expect.stringMatching(/^REDIS_URL: required but not set .*REDIS_SENTINELS .*REDIS_CLUSTER_NODES/)]);
  });

  it('two or three modes at once name each of them', () => {
    expect(errors({ REDIS_URL: 'redis://r', REDIS_CLUSTER_NODES: 'c1' })).toEqual([
      'REDIS_URL: set together with REDIS_CLUSTER_NODES; give exactly one Redis mode',
      'REDIS_CLUSTER_NODES: set together with REDIS_URL; give exactly one Redis mode',
    ]);
    expect(errors({ REDIS_URL: 'redis://r', REDIS_SENTINELS: 's', REDIS_CLUSTER_NODES: 'c' })).toHaveLength(3);
  });

  it('Sentinel settings without REDIS_SENTINELS', () => {
    expect(errors({ REDIS_CLUSTER_NODES: 'c1', REDIS_SENTINEL_MASTER: 'm', REDIS_SENTINEL_PASSWORD: 'p' })).toEqual([
      'REDIS_SENTINEL_MASTER: only used with REDIS_SENTINELS, but REDIS_CLUSTER_NODES is set',
      'REDIS_SENTINEL_PASSWORD: only used with REDIS_SENTINELS, but REDIS_CLUSTER_NODES is set',
    ]);
  });

  it('REDIS_URL with REDIS_TLS, or with credentials given twice', () => {
    expect(errors({ REDIS_URL: 'redis://u:pw@r', REDIS_TLS: 'true', REDIS_PASSWORD: 'x', REDIS_USERNAME: 'y' })).toEqual([
      'REDIS_TLS: not used with REDIS_URL; write rediss:// in the URL for TLS',
      'REDIS_PASSWORD: REDIS_URL holds a password already; give it in one place',
      'REDIS_USERNAME: REDIS_URL holds a user name already; give it in one place',
    ]);
  });

  it('credentials without any Redis in the single-process mode', () => {
    expect(errors({ REDIS_PASSWORD: 'x', REDIS_TLS: 'true' }, false)).toEqual([
      'REDIS_PASSWORD: set, but no Redis is configured (REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES)',
      'REDIS_TLS: set, but no Redis is configured (REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES)',
    ]);
  });

  it.each([
    ['REDIS_SENTINELS', 's1:0', /^REDIS_SENTINELS: "s1:0": the port must be a number from 1 to 65535/],
    ['REDIS_SENTINELS', ' , ', /^REDIS_SENTINELS: must list at least one host:port/],
    ['REDIS_CLUSTER_NODES', '::1', /^REDIS_CLUSTER_NODES: "::1": put an IPv6 address in brackets/],
    ['REDIS_CLUSTER_NODES', 'redis://c1:6379', /^REDIS_CLUSTER_NODES: "redis:\/\/c1:6379" is not a host:port/],
    ['REDIS_CLUSTER_NODES', 'c1:63x9', /^REDIS_CLUSTER_NODES: "c1:63x9": the port must be/],
  ])('a malformed address list: %s=%s', (name, value, pattern) => {
    expect(errors({ [name]: value })).toEqual([expect.stringMatching(pattern)]);
  });

  it('a prefix with a brace would break the hash tag', () => {
    expect(errors({ REDIS_URL: 'redis://r', REDIS_PREFIX: 'app{1}:' })).toEqual([
      expect.stringMatching(/^REDIS_PREFIX: must not contain "\{" or "\}"/),
    ]);
  });

  it('reports Redis combinations together with every other bad variable', () => {
    const lines = configErrorLines(() =>
      loadPollerConfig({ MATOMO_URL: 'ftp://x', REDIS_URL: 'redis://r', REDIS_SENTINELS: 's' }, noDotenv),
    );
    expect(lines.map((l) => l.split(':')[0]).sort()).toEqual(['MATOMO_TOKEN', 'MATOMO_URL', 'REDIS_SENTINELS', 'REDIS_URL']);
  });
});

describe('describeRedis (for logs)', () => {
  it('names the mode and nodes, never a password', () => {
    expect(describeRedis(pollerRedis({ REDIS_URL: 'rediss://:hunter2@cache:6380/1' }))).toBe('single rediss://cache:6380/1');
    expect(describeRedis(pollerRedis({ REDIS_SENTINELS: 's1,[::1]:1', REDIS_PASSWORD: 'hunter2' }))).toBe(
      'sentinel mymaster via s1:26379,[::1]:1',
    );
    expect(describeRedis(pollerRedis({ REDIS_CLUSTER_NODES: 'c1', REDIS_TLS: 'true' }))).toBe('cluster via c1:6379 (tls)');
    expect(describeRedis(undefined)).toBe('none (in memory)');
  });
});
