import { silentLogger } from '@matomo-live/test-support/logger';
import { exitOnSignals } from '../src';

describe('exitOnSignals', () => {
  it('runs shutdown once and exits 0; a second signal exits 1 at once', async () => {
    const codes: number[] = [];
    let release!: () => void;
    let runs = 0;
    const exited = new Promise<void>((resolve) => {
      const remove = exitOnSignals(
        () => {
          runs += 1;
          return new Promise<void>((r) => (release = r));
        },
        {
          logger: silentLogger,
          signals: ['SIGUSR2'],
          deadlineMs: 60_000,
          exit: (code) => {
            codes.push(code);
            if (codes.length === 2) {
              remove();
              resolve();
            }
          },
        },
      );
    });
    process.emit('SIGUSR2');
    process.emit('SIGUSR2');
    expect(codes).toEqual([1]);
    release();
    await exited;
    expect(codes).toEqual([1, 0]);
    expect(runs).toBe(1);
  });

  it('exits 1 when shutdown fails', async () => {
    const code = await new Promise<number>((resolve) => {
      const remove = exitOnSignals(() => Promise.reject(new Error('boom')), {
        logger: silentLogger,
        signals: ['SIGUSR2'],
        deadlineMs: 60_000,
        exit: (c) => {
          remove();
          resolve(c);
        },
      });
      process.emit('SIGUSR2');
    });
    expect(code).toBe(1);
  });
});
