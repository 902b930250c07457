import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { buildWorkspace } from '@matomo-live/test-support/processes';
import { CONFIG_EXIT_CODE, ConfigError, loadOrExit } from '../../src/config/config-error';

// loadOrExit ends the process, so its exits are watched in a real child running the built module.
const BUILT = join(__dirname, '..', '..', 'dist', 'config', 'config-error.js');
beforeAll(() => buildWorkspace(join(__dirname, '..', '..')), 120_000);

function runChild(load: string) {
  const script = `const { loadOrExit, ConfigError } = require(${JSON.stringify(BUILT)});
const value = loadOrExit(() => { ${load} });
process.stdout.write('loaded ' + value);`;
  return spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
}

describe('ConfigError', () => {
  it('keeps its lines and reads as them', () => {
    const error = new ConfigError(['A: bad', 'B: worse']);
    expect(error.lines).toEqual(['A: bad', 'B: worse']);
    expect(error.message).toBe('A: bad\nB: worse');
    expect(error.name).toBe('ConfigError');
  });
});

describe('loadOrExit', () => {
  it('returns what the loader returns', () => {
    expect(loadOrExit(() => 42)).toBe(42);
    expect(runChild('return 7;')).toMatchObject({ status: 0, stdout: 'loaded 7', stderr: '' });
  });

  it('prints one "config error:" line per line, no stack, and exits 78 (EX_CONFIG)', () => {
    const run = runChild("throw new ConfigError(['PORT: must be a number', 'MATOMO_URL: required but not set']);");
    expect(CONFIG_EXIT_CODE).toBe(78);
    expect(run.status).toBe(78);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe('config error: PORT: must be a number\nconfig error: MATOMO_URL: required but not set\n');
  });

  it('rethrows any other error untouched (a bug is not a configuration error)', () => {
    const boom = new TypeError('boom');
    expect(() =>
      loadOrExit(() => {
        throw boom;
      }),
    ).toThrow(boom);
    const run = runChild("throw new TypeError('boom');");
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/TypeError: boom/);
    expect(run.stderr).not.toContain('config error');
  });
});
