/**
 * The scope of a static token entry (`VALID_TOKENS`, `VALID_TOKENS_FILE`):
 * `token@1` or `token@1|3` may see only those sites, a bare `token` every
 * site. Only a suffix of site ids after the last `@` is a scope, so a token
 * that contains `@` otherwise (`a@b`, `x@1a`) stays a literal token. Pure, so
 * whatever reads the entries (start-up, a reloaded file) parses them alike.
 */
export interface ScopedToken {
  /** The token a client presents (the entry without its scope). */
  token: string;
  /** Sites it may see; "*" = all (no scope given). */
  sites: number[] | '*';
}

const SCOPED = /^(.*)@(\d+(?:\|\d+)*)$/s;

/** One entry → its token and sites; throws a message naming what is wrong (never the token). */
export function parseTokenEntry(entry: string): ScopedToken {
  const match = SCOPED.exec(entry);
  if (match === null) return { token: entry, sites: '*' };
  const [, token = '', list = ''] = match;
  if (token === '') throw new Error('a site scope (@…) with no token before it');
  const sites = list.split('|').map(Number);
  const bad = sites.find((site) => !Number.isSafeInteger(site) || site < 1);
  if (bad !== undefined) throw new Error(`site ${bad} in a scope is not a site id (a whole number ≥ 1)`);
  return { token, sites: [...new Set(sites)] };
}

/** Every entry; a bad one throws with its 1-based position (entries are secrets: never echoed). */
export function parseTokenEntries(entries: readonly string[]): ScopedToken[] {
  return entries.map((entry, i) => {
    try {
      return parseTokenEntry(entry);
    } catch (error) {
      throw new Error(`entry ${i + 1}: ${(error as Error).message}`, { cause: error });
    }
  });
}

/** May a grant of `sites` see `siteId`? */
export function sitesAllow(sites: number[] | '*', siteId: number): boolean {
  return sites === '*' || sites.includes(siteId);
}

/** Are `narrower` the same sites as `wider`, or fewer? (A refreshed token may not widen its session.) */
export function sitesWithin(narrower: number[] | '*', wider: number[] | '*'): boolean {
  if (wider === '*') return true;
  if (narrower === '*') return false;
  return narrower.every((site) => wider.includes(site));
}
