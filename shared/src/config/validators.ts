import { EnvError, makeValidator } from 'envalid';

/** Whole number within [min, max]; rejects "1.5", "10ms", "". */
export function intIn(min: number, max: number) {
  return makeValidator<number>((input) => {
    const text = input.trim();
    if (!/^-?\d+$/.test(text)) throw new EnvError(`must be a whole number, got "${input}"`);
    const value = Number(text);
    if (value < min || value > max) throw new EnvError(`must be between ${min} and ${max}, got ${value}`);
    return value;
  });
}

/** Milliseconds as a whole number; the upper bound is what setTimeout accepts. */
export const milliseconds = (min = 1, max = 2_147_483_647) => intIn(min, max);

/** Milliseconds, or 0 for "off": 0 or a whole number within [min, max]. */
export function millisecondsOrOff(min: number, max = 2_147_483_647) {
  return makeValidator<number>((input) => {
    const text = input.trim();
    if (!/^\d+$/.test(text)) throw new EnvError(`must be a whole number of ms (0 = off), got "${input}"`);
    const value = Number(text);
    if (value !== 0 && (value < min || value > max)) throw new EnvError(`must be 0 (off) or between ${min} and ${max}, got ${value}`);
    return value;
  });
}

/** "a, b,,c " → ["a", "b", "c"]: entries trimmed, empty entries dropped. */
export function splitCommaList(input: string): string[] {
  return input
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
}

/** "1,2, 3" → [1, 2, 3]: positive whole numbers, duplicates removed, order kept. */
export const siteIdList = makeValidator<number[]>((input) => {
  const parts = splitCommaList(input);
  if (parts.length === 0) throw new EnvError('must list at least one site id, e.g. "1,2,3"');
  const ids = parts.map((p) => {
    if (!/^\d+$/.test(p) || Number(p) < 1) throw new EnvError(`"${p}" is not a site id (a whole number ≥ 1)`);
    return Number(p);
  });
  return [...new Set(ids)];
});

/** Comma list, entries trimmed, empty entries dropped (as the reference's VALID_TOKENS). */
export const commaList = makeValidator<string[]>(splitCommaList);

const DURATION_UNITS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** Seconds: a whole number (`3600`) or one with a unit (`90s`, `15m`, `12h`, `7d`), within [min, max] seconds. */
export function durationSeconds(min: number, max: number) {
  return makeValidator<number>((input) => {
    const match = /^(\d+)\s*([smhd]?)$/i.exec(input.trim());
    if (match === null) throw new EnvError(`must be seconds or a duration such as 90s, 15m, 12h or 7d, got "${input}"`);
    const value = Number(match[1]) * (DURATION_UNITS[(match[2] ?? '').toLowerCase()] ?? 1);
    if (value < min || value > max) throw new EnvError(`must be between ${min} and ${max} seconds, got ${value}`);
    return value;
  });
}

/**
 * Matomo's base URL as users write it — with or without a trailing slash or
 * `index.php` — normalized to the directory URL ending in "/".
 */
export const matomoBaseUrl = makeValidator<string>((input) => normalizeMatomoUrl(input));

export function normalizeMatomoUrl(input: string): string {
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch {
    throw new EnvError(`must be a URL such as https://matomo.example.org/, got "${input}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new EnvError(`must start with http:// or https://, got "${url.protocol}"`);
  }
  if (url.username || url.password) throw new EnvError('must not contain credentials; use MATOMO_TOKEN');
  url.search = '';
  url.hash = '';
  url.pathname = url.pathname.replace(/\/index\.php$/i, '/').replace(/\/*$/, '/');
  return url.toString();
}

/** Redis connection URL (redis:// or rediss://). */
export const redisUrl = makeValidator<string>((input) => {
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch {
    throw new EnvError(`must be a URL such as redis://redis:6379, got a malformed value`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new EnvError(`must start with redis:// or rediss://, got "${url.protocol}"`);
  }
  return url.toString();
});

/**
 * LOG_PRETTY: a boolean that can only be true where pino-pretty is installed
 * (a development dependency), so asking for it in an image fails at start-up
 * with a line naming the variable instead of when the first line is logged.
 */
export function makePrettyLogs(installed: () => boolean) {
  return makeValidator<boolean>((input) => {
    // envalid's bool() words.
    const text = input.trim().toLowerCase();
    const value = ['true', 't', 'yes', 'on', '1'].includes(text)
      ? true
      : ['false', 'f', 'no', 'off', '0'].includes(text)
        ? false
        : undefined;
    if (value === undefined) throw new EnvError(`must be true or false, got "${input}"`);
    if (value && !installed()) {
      throw new EnvError(
        'true needs the pino-pretty package, which is not installed here (a development dependency; the images do not ship it): unset LOG_PRETTY and pipe the JSON lines through `npx pino-pretty`',
      );
    }
    return value;
  });
}
export const prettyLogs = makePrettyLogs(prettyLogsInstalled);

/** Whether pino-pretty can be loaded from here. */
export function prettyLogsInstalled(): boolean {
  try {
    require.resolve('pino-pretty');
    return true;
  } catch {
    return false;
  }
}

export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];
