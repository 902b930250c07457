import { configErrorLines } from '@matomo-live/test-support/config';
import { cleanOrThrow } from '../../src/config/clean';
import { loadPollerConfig } from '../../src/config/poller-config';
import { makePrettyLogs } from '../../src/config/validators';

const pollerEnv = { MATOMO_URL: 'https://matomo.example.org/', MATOMO_TOKEN: 'x', REDIS_URL: 'redis://127.0.0.1:6379' };

describe('LOG_PRETTY', () => {
  it('turns pretty logs on where pino-pretty is installed (here: a development dependency)', () => {
    expect(loadPollerConfig({ ...pollerEnv, LOG_PRETTY: 'true' }, { dotenv: false }).logPretty).toBe(true);
    expect(loadPollerConfig({ ...pollerEnv, LOG_PRETTY: 'off' }, { dotenv: false }).logPretty).toBe(false);
  });

  it('is a configuration error naming LOG_PRETTY where pino-pretty is missing (the images), and for a non-boolean', () => {
    const spec = { LOG_PRETTY: makePrettyLogs(() => false)({ default: false }) };
    expect(configErrorLines(() => cleanOrThrow({ LOG_PRETTY: 'yes' }, spec))).toEqual([
      expect.stringMatching(/^LOG_PRETTY: true needs the pino-pretty package, which is not installed here .*npx pino-pretty/),
    ]);
    expect(cleanOrThrow({ LOG_PRETTY: 'false' }, spec).LOG_PRETTY).toBe(false);
    expect(configErrorLines(() => cleanOrThrow({ LOG_PRETTY: 'maybe' }, spec))).toEqual(['LOG_PRETTY: must be true or false, got "maybe"']);
  });
});
