import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '@test-support/redis';
import { redisWorld, TestClient, waitFor } from './support/harness';

const MAIN = join(__dirname, '..', 'dist', 'main.js');
const SECRET = 'main-test-secret-token-4242';

function run(env: Record<string, string>): { child: ChildProcess; output: () => string } {
  let output = '';
  // Only what the gateway needs: no inherited *_FILE or SSL_* variables.
  const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  return { child, output: () => output };
}

describe('node gateway/dist/main.js', () => {
  beforeAll(() => {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` first`);
  });

  it('drains on SIGTERM: clients closed with 1001, exit 0, no token in the log', async () => {
    const world = await redisWorld('main');
    try {
      await world.publisher.store(1, 3);
      const port = await freePort();
      const gw = run({ PORT: String(port), HOST: '127.0.0.1', REDIS_URL: world.url, REDIS_PREFIX: world.prefix, VALID_TOKENS: SECRET, DRAIN_WINDOW: '600', LOG_LEVEL: 'debug' });
      const exited = once(gw.child, 'exit');
      try {
        await waitFor(() => gw.output().includes('subscribed to snapshots'), 'the gateway to subscribe', 15_000);
        const clients = [1, 2, 3].map(() => TestClient.connect(`ws://127.0.0.1:${port}/?token=${SECRET}`));
        for (const c of clients) await c.nextMessages(1);
        const refused = TestClient.connect(`ws://127.0.0.1:${port}/?token=wrong-${SECRET}`);
        expect((await refused.closed).code).toBe(4001);
        gw.child.kill('SIGTERM');
        for (const c of clients) expect((await c.closed).code).toBe(1001);
        const [code] = (await exited) as [number | null];
        expect(code).toBe(0);
        expect(gw.output()).toContain('draining');
        expect(gw.output()).not.toContain(SECRET);
      } finally {
        if (gw.child.exitCode === null) gw.child.kill('SIGKILL');
      }
    } finally {
      await world.close();
    }
  });

  it('exits 78 with one line per bad variable', async () => {
    const gw = run({ PORT: 'eighty', REDIS_URL: 'redis://127.0.0.1:1' });
    const [code] = (await once(gw.child, 'exit')) as [number | null];
    expect(code).toBe(78);
    const lines = gw.output().trim().split('\n');
    expect(lines).toEqual(expect.arrayContaining([expect.stringMatching(/^config error: PORT: /), expect.stringMatching(/^config error: VALID_TOKENS: /)]));
  });
});
