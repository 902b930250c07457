import { splitCommaList } from './validators';

/** The client token `.env.example` ships: public (it is in the repository), so only the demo may accept it. */
export const PUBLIC_DEMO_TOKEN = 'demo-token-public-not-secret';

/** Static tokens shorter than this draw a start-up warning: short tokens are guessable. */
export const SHORT_TOKEN_LENGTH = 16;

/** MATOMO_LIVE_DEMO's raw value read as envalid's `bool` reads it, so config checks made on raw values agree with it. */
export function demoRequested(value: string | undefined): boolean {
  return ['true', 't', 'yes', 'on', '1'].includes(value ?? '');
}

/** `token@1|3` → `token`: a trailing list of site ids is a scope, not part of the secret. */
function secretPart(entry: string): string {
  return entry.replace(/@\d+(?:\|\d+)*$/, '');
}

/**
 * The config error for VALID_TOKENS holding the public demo token outside the
 * demo (MATOMO_LIVE_DEMO unset), or undefined. The text never repeats a token.
 */
export function demoTokenError(validTokens: string | undefined, demo: boolean): string | undefined {
  if (demo || !splitCommaList(validTokens ?? '').some((entry) => secretPart(entry) === PUBLIC_DEMO_TOKEN)) return undefined;
  return (
    'VALID_TOKENS: holds the public demo token of .env.example (anyone can read it): replace it with long random values ' +
    '(openssl rand -hex 24), or set MATOMO_LIVE_DEMO=1 if this is the demo'
  );
}

/** The start-up warning for static tokens shorter than SHORT_TOKEN_LENGTH (counted, never shown), or undefined. */
export function shortTokenWarning(validTokens: string | undefined): string | undefined {
  const short = splitCommaList(validTokens ?? '').filter((entry) => secretPart(entry).length < SHORT_TOKEN_LENGTH).length;
  if (short === 0) return undefined;
  return (
    `VALID_TOKENS: ${short} static token${short === 1 ? ' is' : 's are'} shorter than ${SHORT_TOKEN_LENGTH} characters ` +
    'and guessable: use long random values (openssl rand -hex 24)'
  );
}
