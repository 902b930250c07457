import { configErrorLines } from '@matomo-live/test-support/config';
import { cleanOrThrow } from '../../src/config/clean';
import { loadPollerConfig } from '../../src/config/poller-config';
import { durationSeconds, makePrettyLogs } from '../../src/config/validators';

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

describe('durationSeconds', () => {
  const spec = { TTL: durationSeconds(1, 86_400)({ default: undefined }) };
  it('reads seconds or a duration with a unit', () => {
    expect(cleanOrThrow({ TTL: '3600' }, spec).TTL).toBe(3600);
    expect(cleanOrThrow({ TTL: '90s' }, spec).TTL).toBe(90);
    expect(cleanOrThrow({ TTL: '15m' }, spec).TTL).toBe(900);
    expect(cleanOrThrow({ TTL: '12H' }, spec).TTL).toBe(43_200);
    expect(cleanOrThrow({ TTL: '1d' }, spec).TTL).toBe(86_400);
  });
  it('names the variable for a bad or out-of-range value', () => {
    expect(configErrorLines(() => cleanOrThrow({ TTL: '1.5h' }, spec))).toEqual([
      'TTL: must be seconds or a duration such as 90s, 15m, 12h or 7d, got "1.5h"',
    ]);
    expect(configErrorLines(() => cleanOrThrow({ TTL: '2d' }, spec))).toEqual(['TTL: must be between 1 and 86400 seconds, got 172800']);
    expect(configErrorLines(() => cleanOrThrow({ TTL: '0' }, spec))).toEqual(['TTL: must be between 1 and 86400 seconds, got 0']);
  });
});
