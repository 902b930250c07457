import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { demoRequested, demoTokenError, PUBLIC_DEMO_TOKEN, shortTokenWarning } from '@matomo-live/shared';
import { REPO_ROOT } from '@matomo-live/test-support/processes';

describe('token hygiene', () => {
  it("knows .env.example's client token as the public demo token", () => {
    const example = parseEnv(readFileSync(join(REPO_ROOT, '.env.example'), 'utf8'));
    expect(example.VALID_TOKENS).toBe(PUBLIC_DEMO_TOKEN);
    // …and the demo block there says the demo runs.
    expect(demoRequested(example.MATOMO_LIVE_DEMO)).toBe(true);
  });

  it('refuses the demo token outside the demo, in any position and with a site scope, naming VALID_TOKENS only', () => {
    for (const tokens of [PUBLIC_DEMO_TOKEN, `a-long-screen-token-1234, ${PUBLIC_DEMO_TOKEN}`, `${PUBLIC_DEMO_TOKEN}@1|3`]) {
      const error = demoTokenError(tokens, false);
      expect(error).toMatch(/^VALID_TOKENS: holds the public demo token of \.env\.example.*MATOMO_LIVE_DEMO=1/);
      expect(error).not.toContain(PUBLIC_DEMO_TOKEN);
      expect(error).not.toContain('\n');
      expect(demoTokenError(tokens, true)).toBeUndefined();
    }
    expect(demoTokenError(`x${PUBLIC_DEMO_TOKEN}`, false)).toBeUndefined();
    expect(demoTokenError(undefined, false)).toBeUndefined();
  });

  it('reads MATOMO_LIVE_DEMO as envalid reads a bool', () => {
    expect(['1', 'true', 'yes', 'on', 't'].map(demoRequested)).toEqual([true, true, true, true, true]);
    expect(['0', 'false', '', 'no', undefined, 'TRUE '].map(demoRequested)).toEqual([false, false, false, false, false, false]);
  });

  it('warns about static tokens shorter than 16 characters, counting them, never showing one', () => {
    expect(shortTokenWarning('0123456789abcdef, fedcba9876543210@2')).toBeUndefined();
    const warning = shortTokenWarning('short-one, 0123456789abcdef, tiny@1|2');
    expect(warning).toBe(
      'VALID_TOKENS: 2 static tokens are shorter than 16 characters and guessable: use long random values (openssl rand -hex 24)',
    );
    expect(shortTokenWarning('abc')).toMatch(/^VALID_TOKENS: 1 static token is shorter/);
    expect(shortTokenWarning('abc')).not.toContain('abc');
    expect(shortTokenWarning(undefined)).toBeUndefined();
  });
});
