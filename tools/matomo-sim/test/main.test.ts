import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { buildWorkspace, startService } from '@matomo-live/test-support/processes';

const MAIN = join(__dirname, '..', 'dist', 'main.js');

beforeAll(() => buildWorkspace(join(__dirname, '..')), 120_000);

describe('node tools/matomo-sim/dist/main.js', () => {
  it('serves the API with the env settings and stops on SIGTERM', async () => {
    const sim = startService(
      MAIN,
      { PORT: '0', SIM_HOST: '127.0.0.1', SIM_TOKEN: 'cli-token', SIM_SITE_IDS: '3,4', SIM_TIMEZONE: 'UTC+3', SIM_VISIT_EVERY_MS: '0' },
      { inheritEnv: true },
    );
    try {
      const [, url] = await sim.waitForOutput(/listening on (http:\/\/\S+)/);
      const body = new URLSearchParams({
        module: 'API',
        method: 'SitesManager.getSiteFromId',
        idSite: '4',
        format: 'json',
        token_auth: 'cli-token',
      });
      expect(await (await fetch(`${url}index.php`, { method: 'POST', body })).json()).toMatchObject({ idsite: 4, timezone: 'UTC+3' });
      sim.child.kill('SIGTERM');
      expect(await sim.exited).toBe(0);
    } finally {
      await sim.kill();
    }
  });

  it('exits 78 with one line per invalid variable', () => {
    const run = spawnSync(process.execPath, [MAIN], { env: { ...process.env, PORT: 'x', SIM_SITE_IDS: '0' }, encoding: 'utf8' });
    expect(run.status).toBe(78);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines.some((l) => l.includes('PORT'))).toBe(true);
    expect(lines.some((l) => l.includes('SIM_SITE_IDS'))).toBe(true);
  });
});
