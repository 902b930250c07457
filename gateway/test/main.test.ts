import { join } from 'node:path';
import { freePort } from '@matomo-live/test-support/net';
import { startService, type ServiceProcess } from '@matomo-live/test-support/processes';
import { redisWorld, TestClient } from './support/harness';

const MAIN = join(__dirname, '..', 'dist', 'main.js');
const SECRET = 'main-test-secret-token-4242';

// Only what the gateway needs (startService's default: PATH plus these): no inherited *_FILE or SSL_* variables.
const run = (env: Record<string, string>): ServiceProcess => startService(MAIN, env);

describe('node gateway/dist/main.js', () => {
  it('drains on SIGTERM: clients closed with 1001, exit 0, no token in the log', async () => {
    const world = await redisWorld('main');
    try {
      await world.publisher.store(1, 3);
      const port = await freePort();
      const gw = run({
        PORT: String(port),
        HOST: '127.0.0.1',
        REDIS_URL: world.url,
        REDIS_PREFIX: world.prefix,
        VALID_TOKENS: SECRET,
        DRAIN_WINDOW: '600',
        LOG_LEVEL: 'debug',
      });
      try {
        await gw.waitForOutput(/subscribed to snapshots/, 15_000);
        const clients = [1, 2, 3].map(() => TestClient.connect(`ws://127.0.0.1:${port}/?token=${SECRET}`));
        for (const c of clients) await c.nextMessages(1);
        const refused = TestClient.connect(`ws://127.0.0.1:${port}/?token=wrong-${SECRET}`);
        expect((await refused.closed).code).toBe(4001);
        gw.child.kill('SIGTERM');
        for (const c of clients) expect((await c.closed).code).toBe(1001);
        const code = await gw.exited;
        expect(code).toBe(0);
        expect(gw.output()).toContain('draining');
        expect(gw.output()).not.toContain(SECRET);
      } finally {
        await gw.kill();
      }
    } finally {
      await world.close();
    }
  });

  it('exits 78 with one line per bad variable', async () => {
    const gw = run({ PORT: 'eighty', REDIS_URL: 'redis://127.0.0.1:1' });
    const code = await gw.exited;
    expect(code).toBe(78);
    const lines = gw.output().trim().split('\n');
    expect(lines).toEqual(
      expect.arrayContaining([expect.stringMatching(/^config error: PORT: /), expect.stringMatching(/^config error: VALID_TOKENS: /)]),
    );
  });
});
