import type { JwtConfig } from './gateway-config';
import type { RawEnv } from './read-env';

/** The variables whose files the gateway re-reads while it runs (secret rotation). */
export const TOKEN_FILE_VARIABLES = ['VALID_TOKENS', 'JWT_SECRET', 'JWT_PUBLIC_KEY', 'JWT_JWKS'] as const;
export type TokenFileVariable = (typeof TOKEN_FILE_VARIABLES)[number];

/** Paths of the token files, by variable (`VALID_TOKENS` → the value of `VALID_TOKENS_FILE`). */
export type TokenFiles = Partial<Record<TokenFileVariable, string>>;

/** What the gateway's token checks are built from. */
export interface TokenSettings {
  /** Static tokens. */
  validTokens: string[];
  /** Signed-token verification; undefined when no JWT_* key is set. */
  jwt: JwtConfig | undefined;
}

/** The cleaned token variables → settings. */
export function tokenSettingsOf(e: {
  VALID_TOKENS?: string[] | undefined;
  JWT_SECRET?: string | undefined;
  JWT_PUBLIC_KEY?: string | undefined;
  JWT_JWKS?: { keys: object[] } | undefined;
  JWT_JWKS_URL?: string | undefined;
  JWT_ISSUER?: string | undefined;
  JWT_AUDIENCE?: string | undefined;
  JWT_SITES_CLAIM: string;
  JWT_MAX_TTL?: number | undefined;
}): TokenSettings {
  const anyKey = e.JWT_SECRET !== undefined || e.JWT_PUBLIC_KEY !== undefined || e.JWT_JWKS !== undefined || e.JWT_JWKS_URL !== undefined;
  return {
    validTokens: e.VALID_TOKENS ?? [],
    jwt: anyKey
      ? {
          secret: e.JWT_SECRET,
          publicKeyPem: e.JWT_PUBLIC_KEY,
          jwks: e.JWT_JWKS,
          jwksUrl: e.JWT_JWKS_URL,
          issuer: e.JWT_ISSUER,
          audience: e.JWT_AUDIENCE,
          sitesClaim: e.JWT_SITES_CLAIM,
          maxTtlSeconds: e.JWT_MAX_TTL,
        }
      : undefined,
  };
}

/** The `*_FILE` paths of the token variables in a raw environment. */
export function tokenFilesOf(raw: RawEnv): TokenFiles {
  const files: TokenFiles = {};
  for (const name of TOKEN_FILE_VARIABLES) {
    const path = raw[`${name}_FILE`];
    if (path !== undefined && path !== '') files[name] = path;
  }
  return files;
}

/** Checks of the key variables envalid's validators cannot make (they never quote the value). */
export function jwtKeyErrors(raw: RawEnv): string[] {
  const set = (name: string) => (raw[name] ?? '').trim() !== '';
  const errors: string[] = [];
  if (set('JWT_SECRET') && Buffer.byteLength(raw.JWT_SECRET as string) < 32) {
    errors.push('JWT_SECRET: must be at least 32 bytes (HS256 keys shorter than the hash are guessable)');
  }
  if (set('JWT_PUBLIC_KEY') && !(raw.JWT_PUBLIC_KEY as string).includes('-----BEGIN')) {
    errors.push('JWT_PUBLIC_KEY: must be PEM text starting with -----BEGIN PUBLIC KEY----- (or use JWT_PUBLIC_KEY_FILE)');
  }
  return errors;
}
