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
  /** Human-readable output through pino-pretty (pino's JSON lines otherwise); needs that development dependency. Default false. */
  pretty?: boolean;
  /** Where lines go. Default stdout. */
  destination?: NodeJS.WritableStream;
}

export function createLogger({ name, level = 'info', pretty = false, destination }: LoggerOptions): Logger {
  const options = { name, level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' }, base: { name } };
  if (pretty) {
    // Loaded only when asked for: a development dependency (LOG_PRETTY's validator made sure it is installed).
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only when asked for: absent in the images
    const prettyStream = (require('pino-pretty') as { default: PrettyFactory }).default;
    return pino(options, prettyStream({ destination: destination ?? 1, sync: true, ignore: 'pid,hostname' }));
  }
  return pino(options, destination ?? pino.destination({ sync: false }));
}

type PrettyFactory = (options: { destination: NodeJS.WritableStream | number; sync: boolean; ignore: string }) => NodeJS.WritableStream;

/** A short, stable, non-reversible name for a token, safe to log and to use as a metric label. */
export function tokenFingerprint(token: string): string {
  return createHash('sha256').update(token).digest('hex').slice(0, 10);
}
