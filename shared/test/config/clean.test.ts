import { num, str } from 'envalid';
import { configErrorLines } from '@matomo-live/test-support/config';
import { cleanOrThrow, cleanOrThrowWith } from '../../src/config/clean';

const specs = {
  MATOMO_URL: str({ desc: 'where Matomo answers', example: 'https://matomo.example.org/' }),
  PORT: num({ default: 8080 }),
};

describe('cleanOrThrow', () => {
  it('returns the cleaned values with defaults', () => {
    const env = cleanOrThrow({ MATOMO_URL: 'https://m.example/' }, specs);
    expect(env.MATOMO_URL).toBe('https://m.example/');
    expect(env.PORT).toBe(8080);
  });

  it('gives one line per bad variable: a missing one with its description and example, a bad one on one line', () => {
    expect(configErrorLines(() => cleanOrThrow({ PORT: 'eighty' }, specs))).toEqual([
      'MATOMO_URL: required but not set — where Matomo answers (e.g. https://matomo.example.org/)',
      expect.stringMatching(/^PORT: [^\n]*eighty/),
    ]);
  });

  it('reads a variable set to nothing as unset, so its default applies', () => {
    expect(cleanOrThrow({ MATOMO_URL: 'x', PORT: '' }, specs).PORT).toBe(8080);
    expect(configErrorLines(() => cleanOrThrow({ MATOMO_URL: '' }, specs))).toEqual([
      expect.stringMatching(/^MATOMO_URL: required but not set/),
    ]);
  });
});

describe('cleanOrThrowWith', () => {
  it("reports the cross-variable lines in the same error as envalid's", () => {
    expect(configErrorLines(() => cleanOrThrowWith({ PORT: 'x' }, specs, ['REDIS_URL: set together with REDIS_SENTINELS']))).toEqual([
      expect.stringMatching(/^MATOMO_URL: /),
      expect.stringMatching(/^PORT: /),
      'REDIS_URL: set together with REDIS_SENTINELS',
    ]);
  });

  it('leaves the cross-variable lines to the caller when envalid found nothing', () => {
    expect(cleanOrThrowWith({ MATOMO_URL: 'x' }, specs, ['A: b']).PORT).toBe(8080);
  });
});
