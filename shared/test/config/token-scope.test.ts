import { parseTokenEntries, parseTokenEntry, sitesAllow, sitesWithin } from '@matomo-live/shared';

describe('parseTokenEntry', () => {
  it('reads a scope of site ids after the last @', () => {
    expect(parseTokenEntry('lobby@1')).toEqual({ token: 'lobby', sites: [1] });
    expect(parseTokenEntry('wall@1|3')).toEqual({ token: 'wall', sites: [1, 3] });
    expect(parseTokenEntry('a@b@2|2')).toEqual({ token: 'a@b', sites: [2] });
  });

  it('keeps a token without a scope, or with an @ that is no scope, literal and for every site', () => {
    expect(parseTokenEntry('plain')).toEqual({ token: 'plain', sites: '*' });
    for (const literal of ['user@example.org', 'x@1a', 'x@1|', 'x@|1', 'x@', 'x@1,2', 'x@ 1']) {
      expect(parseTokenEntry(literal)).toEqual({ token: literal, sites: '*' });
    }
  });

  it('refuses a scope without a token and site 0, never echoing the entry', () => {
    expect(() => parseTokenEntry('@1')).toThrow('a site scope (@…) with no token before it');
    expect(() => parseTokenEntry('secret-value@0')).toThrow(/^site 0 in a scope is not a site id/);
    expect(() => parseTokenEntries(['ok', 'secret-value@1|0'])).toThrow(/^entry 2: site 0/);
    try {
      parseTokenEntries(['secret-value@0']);
    } catch (error) {
      expect((error as Error).message).not.toContain('secret-value');
    }
  });
});

describe('sitesAllow / sitesWithin', () => {
  it('compares scopes', () => {
    expect(sitesAllow('*', 9)).toBe(true);
    expect(sitesAllow([1, 3], 3)).toBe(true);
    expect(sitesAllow([1, 3], 2)).toBe(false);
    expect(sitesWithin([1], [1, 3])).toBe(true);
    expect(sitesWithin([1, 3], [1, 3])).toBe(true);
    expect(sitesWithin([1, 2], [1, 3])).toBe(false);
    expect(sitesWithin('*', [1])).toBe(false);
    expect(sitesWithin([5], '*')).toBe(true);
    expect(sitesWithin('*', '*')).toBe(true);
  });
});
