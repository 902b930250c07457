import { Writable } from 'node:stream';
import { capturedLogger } from '@matomo-live/test-support/logger';
import { createLogger, tokenFingerprint } from '../src/logger';

describe('createLogger', () => {
  it('logs an error with its stack and cause, and hides the secrets an error may carry', () => {
    const { logger, lines, text } = capturedLogger();
    const failure = Object.assign(new Error('WRONGPASS invalid username-password pair', { cause: new Error('socket closed') }), {
      command: { name: 'auth', args: ['default', 'redis-password-123'] },
      token: 'client-token-456',
    });
    logger.warn({ err: failure, req: { headers: { authorization: 'Bearer client-token-789' } } }, 'redis connection error');
    const [line] = lines();
    expect(line?.err).toMatchObject({
      type: 'Error',
      message: expect.stringContaining('WRONGPASS'),
      command: { name: 'auth', args: '[redacted]' },
    });
    expect((line?.err as { stack: string }).stack).toMatch(
      /^Error: WRONGPASS[^\n]*\n\s+at .*logger\.test\.ts[\s\S]*caused by: Error: socket closed/,
    );
    for (const secret of ['redis-password-123', 'client-token-456', 'client-token-789']) expect(text()).not.toContain(secret);
  });

  it('fingerprints tokens stably and without revealing them', () => {
    expect(tokenFingerprint('abc')).toBe(tokenFingerprint('abc'));
    expect(tokenFingerprint('abc')).toMatch(/^[0-9a-f]{10}$/);
    expect(tokenFingerprint('abc')).not.toBe(tokenFingerprint('abd'));
  });

  it('writes human-readable lines with pretty (LOG_PRETTY), still without secrets', () => {
    let text = '';
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        text += chunk.toString();
        done();
      },
    });
    const logger = createLogger({ name: 'pretty-test', pretty: true, destination });
    logger.info({ token: 'client-token-456', site: 3 }, 'gateway listening');
    expect(text).toMatch(/INFO.*\(pretty-test\): gateway listening/);
    expect(text).toContain('site: 3');
    expect(text).not.toContain('client-token-456');
    expect(() => JSON.parse(text)).toThrow();
  });
});
