import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configErrorLines } from '@matomo-live/test-support/config';
import { readEnv } from '../../src/config/read-env';

describe('readEnv', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'read-env-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads .env underneath the real environment, which wins', () => {
    writeFileSync(join(dir, '.env'), 'PORT=1111\nFETCH_INTERVAL=9\n');
    const env = readEnv({ PORT: '2222', UNSET: undefined }, { cwd: dir });
    expect(env).toEqual({ PORT: '2222', FETCH_INTERVAL: '9' });
    expect('UNSET' in env).toBe(false);
  });

  it('needs no .env, and ignores one when told to', () => {
    expect(readEnv({ PORT: '1' }, { cwd: dir })).toEqual({ PORT: '1' });
    writeFileSync(join(dir, '.env'), 'PORT=1111\n');
    expect(readEnv({}, { cwd: dir, dotenv: false })).toEqual({});
  });

  it('replaces NAME_FILE by the file as NAME, without its final newline only', () => {
    writeFileSync(join(dir, 'token'), 'line one\nsecret\n\n');
    const env = readEnv({ MATOMO_TOKEN_FILE: join(dir, 'token') }, { dotenv: false });
    expect(env.MATOMO_TOKEN).toBe('line one\nsecret\n');
  });

  it('names both variables when NAME and NAME_FILE are set, and the path (not the content) of an unreadable file', () => {
    writeFileSync(join(dir, 'token'), 'secret');
    const missing = join(dir, 'nope');
    expect(
      configErrorLines(() =>
        readEnv({ MATOMO_TOKEN: 'x', MATOMO_TOKEN_FILE: join(dir, 'token'), JWT_SECRET_FILE: missing }, { dotenv: false }),
      ),
    ).toEqual([
      'MATOMO_TOKEN_FILE: set together with MATOMO_TOKEN; set only one of them',
      `JWT_SECRET_FILE: cannot read ${missing} (ENOENT)`,
    ]);
  });

  it('treats an empty NAME_FILE or an empty NAME as unset (compose passes both forms)', () => {
    writeFileSync(join(dir, 'token'), 'secret');
    expect(
      readEnv({ MATOMO_TOKEN: '', MATOMO_TOKEN_FILE: join(dir, 'token'), VALID_TOKENS_FILE: '' }, { dotenv: false }).MATOMO_TOKEN,
    ).toBe('secret');
  });

  it('with names, never opens an unrelated *_FILE', () => {
    const env = readEnv({ PORT: '1', TF_CLI_CONFIG_FILE: join(dir, 'absent'), OTHER: 'y' }, { dotenv: false, names: ['PORT'] });
    expect(env).toEqual({ PORT: '1' });
    expect(() => readEnv({ TF_CLI_CONFIG_FILE: join(dir, 'absent') }, { dotenv: false })).toThrow(/TF_CLI_CONFIG_FILE: cannot read/);
  });
});
