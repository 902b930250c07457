import { createServer } from 'node:net';
import { freePort } from '../src/free-port';
import { pollUntil, waitFor, waitForPort } from '../src/wait-for';

describe('waitFor', () => {
  it('resolves with the first truthy value', async () => {
    let calls = 0;
    await expect(waitFor(() => (++calls >= 3 ? `after ${calls}` : undefined), 'three calls', 5000, { everyMs: 1 })).resolves.toBe(
      'after 3',
    );
  });

  it('rejects naming what it waited for, quoting the last error when errors mean "not yet"', async () => {
    await expect(waitFor(() => false, 'the impossible', 30, { everyMs: 5 })).rejects.toThrow('waiting for the impossible');
    await expect(
      waitFor(
        () => {
          throw new Error('node down');
        },
        'a node',
        30,
        { everyMs: 5, errorsMeanNotYet: true },
      ),
    ).rejects.toThrow(/a node \(last error: node down\)/);
    await expect(
      waitFor(() => {
        throw new Error('bug');
      }, 'x'),
    ).rejects.toThrow('bug');
  });

  it('re-checks at once when woken', async () => {
    let ready = false;
    let wake: (() => void) | undefined;
    const waiting = waitFor(() => ready, 'a wake-up', 5000, { everyMs: 60_000, subscribe: (w) => (wake = w) });
    await new Promise((resolve) => setImmediate(resolve));
    ready = true;
    wake?.();
    await expect(waiting).resolves.toBe(true);
  });

  it('pollUntil treats errors as "not yet"', async () => {
    let calls = 0;
    const value = await pollUntil(
      () => {
        if (++calls < 3) throw new Error('not up');
        return 7;
      },
      'a probe',
      5000,
      1,
    );
    expect(value).toBe(7);
  });
});

describe('waitForPort', () => {
  it('resolves once something listens, and names a process that exited first', async () => {
    const port = await freePort();
    const server = createServer();
    const waiting = waitForPort(port, undefined, 10_000);
    server.listen(port, '127.0.0.1');
    await expect(waiting).resolves.toBeUndefined();
    await new Promise((resolve) => server.close(resolve));
    const dead = { child: { exitCode: 3 }, output: () => 'it said why' };
    await expect(waitForPort(await freePort(), dead, 10_000)).rejects.toThrow(/exited with 3.*it said why/);
  });
});
