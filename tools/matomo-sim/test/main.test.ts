import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';

const MAIN = join(__dirname, '..', 'dist', 'main.js');

beforeAll(() => {
  const build = spawnSync('npx', ['tsc', '-b', join(__dirname, '..')], { encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`tsc -b failed: ${build.stdout}${build.stderr}`);
}, 120_000);

describe('node tools/matomo-sim/dist/main.js', () => {
  it('serves the API with the env settings and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [MAIN], {
      env: { ...process.env, PORT: '0', SIM_HOST: '127.0.0.1', SIM_TOKEN: 'cli-token', SIM_SITE_IDS: '3,4', SIM_TIMEZONE: 'UTC+3', SIM_VISIT_EVERY_MS: '0' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', () => {
        const m = /listening on (http:\/\/\S+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.once('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
    });
    const body = new URLSearchParams({ module: 'API', method: 'SitesManager.getSiteFromId', idSite: '4', format: 'json', token_auth: 'cli-token' });
    expect(await (await fetch(`${url}index.php`, { method: 'POST', body })).json()).toMatchObject({ idsite: '4', timezone: 'UTC+3' });
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    expect((await exited)[0]).toBe(0);
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
