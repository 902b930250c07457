import { createHash } from 'node:crypto';
import pino, { type Logger } from 'pino';
import type { LogLevel } from './config/validators';

export type { Logger } from 'pino';

/**
 * Fields that may hold a secret anywhere in a log object. Tokens must never
 * reach a log (the reference script logs them); log tokenFingerprint() instead.
 */
export const REDACTED_PATHS = [
  'token',
  'token_auth',
  'matomoToken',
  'authorization',
  '*.token',
  '*.token_auth',
  '*.matomoToken',
  '*.authorization',
  'req.headers.authorization',
  'req.headers["sec-websocket-protocol"]',
  'req.headers.cookie',
  // ioredis errors carry the failed command: AUTH's password, or a whole snapshot for the publish script.
  'err.command.args',
];

export interface LoggerOptions {
  /** Service name, the `name` field of every line. */
  name: string;
  /** Level. Default "info". */
  level?: LogLevel;
  /** Human-readable output (pino's JSON lines otherwise). Default false. */
  pretty?: boolean;
  /** Where lines go. Default stdout. */
  destination?: NodeJS.WritableStream;
}

export function createLogger({ name, level = 'info', destination }: LoggerOptions): Logger {
  return pino(
    { name, level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' }, base: { name } },
    destination ?? pino.destination({ sync: false }),
  );
}

/** A short, stable, non-reversible name for a token, safe to log and to use as a metric label. */
export function tokenFingerprint(token: string): string {
  return createHash('sha256').update(token).digest('hex').slice(0, 10);
}
