import { startProcess } from '../src/process';

describe('startProcess', () => {
  it('captures output, waits for a line and reports the exit code', async () => {
    const proc = startProcess(
      process.execPath,
      ['-e', 'console.log("ready " + process.env.GREETING); setTimeout(() => process.exit(4), 50)'],
      {
        env: { GREETING: 'hello' },
      },
    );
    const match = await proc.waitForOutput(/ready (\w+)/, 10_000);
    expect(match[1]).toBe('hello');
    await expect(proc.exited).resolves.toBe(4);
    expect(proc.output()).toContain('ready hello');
  });

  it('stops a process that ignores nothing, and kills one that ignores SIGTERM', async () => {
    const polite = startProcess(process.execPath, ['-e', 'console.log("up"); setInterval(() => {}, 1000)']);
    await polite.waitForOutput(/up/, 10_000);
    await polite.stop(5000);
    expect(polite.child.exitCode !== null || polite.child.signalCode !== null).toBe(true);
    const stubborn = startProcess(process.execPath, [
      '-e',
      'process.on("SIGTERM", () => {}); console.log("up"); setInterval(() => {}, 1000)',
    ]);
    await stubborn.waitForOutput(/up/, 10_000);
    await stubborn.stop(200);
    expect(stubborn.child.signalCode).toBe('SIGKILL');
  });
});
