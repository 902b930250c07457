/**
 * `npm run demo` as a newcomer runs it (after the build): it prints a working
 * dashboard URL whose token the gateway accepts, and Ctrl-C stops everything.
 */
import { once } from 'node:events';
import WebSocket from 'ws';
import { PUBLIC_DEMO_TOKEN } from '@matomo-live/shared';
import { freePort } from '@matomo-live/test-support/net';
import { requireBuilt, startService } from '@matomo-live/test-support/processes';

describe('npm run demo', () => {
  it('prints the dashboard URL with a working demo token and stops cleanly on SIGINT', async () => {
    requireBuilt('standalone/dist/demo.js', 'client/dist/dashboard/index.html');
    const port = await freePort();
    // The runner's environment, but never its REDIS_URL: the demo runs on the in-memory bus.
    const demo = startService('standalone/dist/demo.js', { PORT: String(port), REDIS_URL: undefined }, { inheritEnv: true });
    try {
      const [, url] = await demo.waitForOutput(/dashboard\s+(http:\/\/\S+)/);
      expect(url).toBe(`http://127.0.0.1:${port}/dashboard/#token=demo`);

      const page = await fetch(url!.split('#')[0]!);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('dashboard.js');

      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, ['matomo-live.v1', 'token.demo']);
      const [data] = (await once(ws, 'message')) as [Buffer];
      const snapshot = JSON.parse(data.toString()) as { site: number; visits_live: unknown[]; summary: { today: { time_spent: string } } };
      expect(snapshot.site).toBe(1);
      expect(snapshot.summary.today.time_spent).toMatch(/^\d{2,}:\d{2}:\d{2}$/);
      ws.close();
    } finally {
      demo.child.kill('SIGINT');
      const code = await demo.exited;
      expect(code).toBe(0);
    }
    // Both children are gone: the port is free again.
    const refused = await fetch(`http://127.0.0.1:${port}/healthz`).then(
      () => false,
      () => true,
    );
    expect(refused).toBe(true);
  });

  it(".env.example's public token works in the demo (it says so: MATOMO_LIVE_DEMO), and npm start refuses it (exit 78)", async () => {
    requireBuilt('standalone/dist/demo.js', 'standalone/dist/main.js');
    const port = await freePort();
    const demo = startService('standalone/dist/demo.js', { PORT: String(port), DEMO_TOKEN: PUBLIC_DEMO_TOKEN });
    try {
      await demo.waitForOutput(/dashboard\s+http:/);
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, ['matomo-live.v1', `token.${PUBLIC_DEMO_TOKEN}`]);
      const [data] = (await once(ws, 'message')) as [Buffer];
      expect(JSON.parse(data.toString())).toMatchObject({ site: 1 });
      ws.close();
    } finally {
      demo.child.kill('SIGINT');
      expect(await demo.exited).toBe(0);
    }
    const start = startService('standalone/dist/main.js', {
      MATOMO_URL: 'http://127.0.0.1:1/',
      MATOMO_TOKEN: 'demo-matomo-token',
      VALID_TOKENS: PUBLIC_DEMO_TOKEN,
      PORT: '0',
      // Set empty: a developer's .env (read from the working directory) may say the demo runs.
      MATOMO_LIVE_DEMO: '',
    });
    expect(await start.exited).toBe(78);
    expect(start.output().trim()).toMatch(/^config error: VALID_TOKENS: holds the public demo token of \.env\.example[^\n]*$/);
  });
});
