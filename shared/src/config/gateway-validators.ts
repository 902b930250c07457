// The validators of the gateway's settings that only the gateway uses (origins, proxies, keys, token lists).
import { EnvError, makeValidator } from 'envalid';
import { isIP } from 'node:net';
import { parseTokenEntries } from './token-scope';
import { splitCommaList } from './validators';

/** "https://a.example, http://b.example:8080" → normalized origins (scheme://host[:port]). */
export const originList = makeValidator<string[]>((input) =>
  splitCommaList(input).map((p) => {
    if (p === '*') return '*';
    let url: URL;
    try {
      url = new URL(p);
    } catch {
      throw new EnvError(`"${p}" is not an origin such as https://dashboard.example.org`);
    }
    return url.origin;
  }),
);

/**
 * "10.0.0.0/8, 127.0.0.1, ::1, nginx" → addresses and CIDR ranges, checked, and
 * host names (kept as names: the gateway resolves them at start and again
 * while it runs, so a proxy container that comes back with a new address is
 * still the proxy). "loopback" = 127.0.0.1/8 and ::1.
 */
const HOST_NAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9_-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9_-]{0,61}[a-z0-9])?)*$/i;

export const proxyList = makeValidator<string[]>((input) => {
  const out: string[] = [];
  for (const part of splitCommaList(input)) {
    if (part === 'loopback') {
      out.push('127.0.0.0/8', '::1/128');
      continue;
    }
    if (HOST_NAME.test(part) && isIP(part) === 0) {
      out.push(part.toLowerCase());
      continue;
    }
    const [address, bits, extra] = part.split('/');
    const family = isIP(address ?? '');
    const maxBits = family === 6 ? 128 : 32;
    const bitsOk = bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= maxBits);
    if (family === 0 || !bitsOk || extra !== undefined) {
      throw new EnvError(`"${part}" is not an IP address, CIDR range or host name (e.g. 10.0.0.5, 10.0.0.0/24, ::1, loopback, nginx)`);
    }
    out.push(bits === undefined ? `${address}/${maxBits}` : part);
  }
  return out;
});

/** A JWKS document ({"keys":[...]}) as JSON text; usually given as JWT_JWKS_FILE. */
export const jwksJson = makeValidator<{ keys: object[] }>((input) => parseJwks(input));

/** JSON text → a JWKS document with a non-empty "keys" array; throws EnvError saying what is wrong (never the text). */
export function parseJwks(input: string): { keys: object[] } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(input);
  } catch {
    throw new EnvError('must be a JWKS JSON document {"keys":[...]}; the text is not JSON');
  }
  const keys = (parsed as { keys?: unknown })?.keys;
  if (!Array.isArray(keys) || keys.length === 0 || !keys.every((k) => typeof k === 'object' && k !== null)) {
    throw new EnvError('must be a JWKS JSON document with a non-empty "keys" array');
  }
  return { keys: keys as object[] };
}

/** Where a JWKS is fetched: https, or http to a loopback address only (a key set must not travel in clear text). */
export const jwksUrl = makeValidator<string>((input) => {
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch {
    throw new EnvError('must be a URL such as https://idp.example.org/.well-known/jwks.json');
  }
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname) || url.hostname.startsWith('127.');
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new EnvError('must be an https:// URL (http:// only to localhost, 127.0.0.0/8 or [::1])');
  }
  if (url.username || url.password) throw new EnvError('must not contain credentials');
  return url.toString();
});

/** Static token entries, comma separated and trimmed, each `token`, `token@1` or `token@1|3` (token-scope.ts). */
export const tokenList = makeValidator<string[]>((input) => {
  const entries = splitCommaList(input);
  try {
    parseTokenEntries(entries);
  } catch (error) {
    throw new EnvError((error as Error).message);
  }
  return entries;
});
