/**
 * `npm run demo` as a newcomer runs it (after the build): it prints a working
 * dashboard URL whose token the gateway accepts, and Ctrl-C stops everything.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { freePort } from '@test-support/redis';

const root = join(__dirname, '..', '..', '..');

describe('npm run demo', () => {
  it('prints the dashboard URL with a working demo token and stops cleanly on SIGINT', async () => {
    for (const built of ['gateway/dist/single-process.js', 'tools/matomo-sim/dist/main.js', 'client/dist/dashboard/index.html']) {
      if (!existsSync(join(root, built))) throw new Error(`${built} is missing: run \`npm run build\` first`);
    }
    const port = await freePort();
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port) };
    delete env.REDIS_URL;
    const demo = spawn(process.execPath, [join(root, 'tools/demo/demo.js')], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    demo.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    demo.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = once(demo, 'exit');
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const check = () => {
          const match = /dashboard\s+(http:\/\/\S+)/.exec(output);
          if (match?.[1]) resolve(match[1]);
        };
        demo.stdout.on('data', check);
        void exited.then(() => reject(new Error(`demo exited early:\n${output}`)));
      });
      expect(url).toBe(`http://127.0.0.1:${port}/dashboard/#token=demo`);

      const page = await fetch(url.split('#')[0]!);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('dashboard.js');

      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, ['matomo-live.v1', 'token.demo']);
      const [data] = (await once(ws, 'message')) as [Buffer];
      const snapshot = JSON.parse(data.toString()) as { site: number; visits_live: unknown[]; summary: { today: { time_spent: string } } };
      expect(snapshot.site).toBe(1);
      expect(snapshot.summary.today.time_spent).toMatch(/^\d{2,}:\d{2}:\d{2}$/);
      ws.close();
    } finally {
      demo.kill('SIGINT');
      const [code] = (await exited) as [number | null];
      expect(code).toBe(0);
    }
    // Both children are gone: the port is free again.
    const refused = await fetch(`http://127.0.0.1:${port}/healthz`).then(
      () => false,
      () => true,
    );
    expect(refused).toBe(true);
  });
});
