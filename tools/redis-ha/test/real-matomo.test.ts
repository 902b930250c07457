import { parseExports, readTrackingAnswer, realMatomoPlan } from '../src/real-matomo';

describe('real-matomo', () => {
  it('reads what start.sh prints', () => {
    expect(parseExports("export REAL_MATOMO_URL='http://127.0.0.1:8089/' REAL_MATOMO_TOKEN=abc\nexport EMPTY=")).toEqual({
      REAL_MATOMO_URL: 'http://127.0.0.1:8089/',
      REAL_MATOMO_TOKEN: 'abc',
      EMPTY: '',
    });
  });

  it('reads a bulk-tracking answer and refuses anything else', () => {
    expect(readTrackingAnswer('{"status":"success","tracked":7,"invalid":0}')).toEqual({ tracked: 7, invalid: 0 });
    expect(() => readTrackingAnswer('<html>')).toThrow(/not JSON/);
    expect(() => readTrackingAnswer('{"status":"error"}')).toThrow(/tracking failed/);
  });

  it('plans: an external Matomo from the environment, else start one, else a loud reason', () => {
    const saved = { ...process.env };
    try {
      process.env.REAL_MATOMO_URL = 'http://matomo.test';
      process.env.REAL_MATOMO_TOKEN = 't';
      expect(realMatomoPlan('x')).toMatchObject({ kind: 'env', url: 'http://matomo.test/', token: 't' });
      // Brute-force suites never use an external one.
      expect(realMatomoPlan('x', { bruteForce: true }).kind).not.toBe('env');
      delete process.env.REAL_MATOMO_URL;
      const plan = realMatomoPlan('x');
      expect(['start', 'skip']).toContain(plan.kind);
      if (plan.kind === 'skip') expect(plan.reason).toMatch(/needs a real Matomo/);
    } finally {
      process.env = saved;
    }
  });
});
