import {
  ClientAddressResolver,
  isWebSocketPath,
  originAllowed,
  parseConnectRequest,
  selectProtocol,
} from '../../src/admission/connect-request';

describe('parseConnectRequest', () => {
  it('prefers Authorization, then the token subprotocol, then ?token=', () => {
    expect(parseConnectRequest('/?token=q', { authorization: 'Bearer h', 'sec-websocket-protocol': 'matomo-live.v1, token.p' }).token).toBe(
      'h',
    );
    expect(parseConnectRequest('/?token=q', { 'sec-websocket-protocol': 'matomo-live.v1, token.p' }).token).toBe('p');
    expect(parseConnectRequest('/ws?token=q', {}).token).toBe('q');
    expect(parseConnectRequest('/', { authorization: 'Basic abc' }).token).toBeUndefined();
  });

  it('reads site= and fields=', () => {
    expect(parseConnectRequest('/?site=3&fields=summary,seq', {})).toMatchObject({
      siteId: 3,
      fields: ['summary'],
      fieldsError: undefined,
    });
    expect(parseConnectRequest('/?site=abc', {}).siteId).toBeNaN();
    expect(parseConnectRequest('/?fields=visits_live,summary,counters,timezone', {}).fields).toBeUndefined();
    expect(parseConnectRequest('/?fields=summary,password', {}).fieldsError).toBe('unknown field "password"');
  });

  it('reads status=: 1 and true ask for status messages, 0, false and none do not, anything else is an error', () => {
    const status = (query: string) => {
      const { status: wanted, statusError } = parseConnectRequest(`/?token=t${query}`, {});
      return { wanted, statusError };
    };
    expect(status('')).toEqual({ wanted: false, statusError: undefined });
    expect(status('&status=1')).toEqual({ wanted: true, statusError: undefined });
    expect(status('&status=true')).toEqual({ wanted: true, statusError: undefined });
    expect(status('&status=0')).toEqual({ wanted: false, statusError: undefined });
    expect(status('&status=false')).toEqual({ wanted: false, statusError: undefined });
    expect(status('&status=yes')).toEqual({ wanted: false, statusError: 'unknown status "yes"' });
    expect(status('&status=')).toEqual({ wanted: false, statusError: 'unknown status ""' });
    expect(status('&status=TRUE').statusError).toBe('unknown status "TRUE"');
    expect(status(`&status=${'x'.repeat(100)}`).statusError).toBe(`unknown status "${'x'.repeat(32)}"`);
    // The other options are read as before beside it.
    expect(parseConnectRequest('/?status=1&fields=summary&site=2', {})).toMatchObject({ siteId: 2, fields: ['summary'], status: true });
  });

  it('accepts upgrades on /, /ws and /ws/ only', () => {
    expect(['/', '/?token=x', '/ws', '/ws/'].map(isWebSocketPath)).toEqual([true, true, true, true]);
    expect(['/wss', '/dashboard/', '/ws/x'].map(isWebSocketPath)).toEqual([false, false, false]);
  });

  it('selects matomo-live.v1 and never echoes a token protocol', () => {
    expect(selectProtocol(new Set(['token.secret', 'matomo-live.v1']))).toBe('matomo-live.v1');
    expect(selectProtocol(new Set(['token.secret']))).toBe(false);
  });
});

describe('ClientAddressResolver', () => {
  it('ignores X-Forwarded-For unless the peer is a trusted proxy', () => {
    expect(new ClientAddressResolver([]).resolve('10.0.0.5', '1.2.3.4')).toBe('10.0.0.5');
    const resolver = new ClientAddressResolver(['10.0.0.0/8', '::1/128']);
    expect(resolver.resolve('192.168.1.1', '1.2.3.4')).toBe('192.168.1.1');
    expect(resolver.resolve('::ffff:10.0.0.5', '1.2.3.4')).toBe('1.2.3.4');
    // The right-most untrusted hop: a client cannot spoof by prepending entries.
    expect(resolver.resolve('10.0.0.5', 'spoofed, 5.6.7.8, 10.0.0.9')).toBe('5.6.7.8');
    expect(resolver.resolve('::1', undefined)).toBe('::1');
  });

  it('trusts a proxy named by host name, follows its new address, and keeps the last good one when a lookup fails', async () => {
    const answers: Array<string[] | Error> = [['172.18.0.5'], ['172.18.0.9'], new Error('ENOTFOUND nginx')];
    const failures: string[] = [];
    const resolver = new ClientAddressResolver(['nginx'], {
      lookup: async (host) => {
        expect(host).toBe('nginx');
        const next = answers.shift();
        if (next instanceof Error) throw next;
        return next ?? [];
      },
      onLookupError: (host) => failures.push(host),
    });
    expect(resolver.hasHostNames).toBe(true);
    // Before the first lookup nothing is trusted: a spoofed header is not believed.
    expect(resolver.resolve('172.18.0.5', '1.2.3.4')).toBe('172.18.0.5');
    await resolver.refreshHosts();
    expect(resolver.resolve('172.18.0.5', '1.2.3.4')).toBe('1.2.3.4');
    expect(resolver.resolve('172.18.0.6', '1.2.3.4')).toBe('172.18.0.6');
    await resolver.refreshHosts();
    expect(resolver.resolve('172.18.0.9', '1.2.3.4')).toBe('1.2.3.4');
    expect(resolver.resolve('172.18.0.5', '1.2.3.4')).toBe('172.18.0.5');
    await resolver.refreshHosts();
    expect(failures).toEqual(['nginx']);
    expect(resolver.resolve('172.18.0.9', '1.2.3.4')).toBe('1.2.3.4');
  });

  it('reports a peer sending X-Forwarded-For that is not trusted (a proxy missing from TRUST_PROXY) once, and at most 16 peers', () => {
    const reported: string[] = [];
    const resolver = new ClientAddressResolver(['10.0.0.1/32'], { onIgnoredForwardedFor: (peer) => reported.push(peer) });
    resolver.resolve('10.0.0.1', '1.2.3.4');
    resolver.resolve('10.0.0.2', undefined);
    expect(reported).toEqual([]);
    resolver.resolve('::ffff:10.0.0.2', '1.2.3.4');
    resolver.resolve('10.0.0.2', '5.6.7.8');
    expect(reported).toEqual(['10.0.0.2']);
    for (let i = 0; i < 40; i++) resolver.resolve(`192.0.2.${i}`, '1.2.3.4');
    expect(reported).toHaveLength(16);
  });

  it('with host names, reports a peer only if it is still untrusted after a lookup that followed its first request', async () => {
    const reported: string[] = [];
    let nginx: string[] = [];
    const resolver = new ClientAddressResolver(['nginx'], {
      lookup: async () => nginx,
      onIgnoredForwardedFor: (peer) => reported.push(peer),
    });
    await resolver.refreshHosts();
    // nginx started after the gateway: its first requests come before the next lookup.
    expect(resolver.resolve('172.18.0.5', '1.2.3.4')).toBe('172.18.0.5');
    expect(resolver.resolve('172.18.0.5', '1.2.3.4')).toBe('172.18.0.5');
    nginx = ['172.18.0.5'];
    await resolver.refreshHosts();
    expect(resolver.resolve('172.18.0.5', '1.2.3.4')).toBe('1.2.3.4');
    expect(reported).toEqual([]);
    // Another peer, still untrusted after a later lookup: reported.
    resolver.resolve('172.18.0.7', '1.2.3.4');
    await resolver.refreshHosts();
    resolver.resolve('172.18.0.7', '1.2.3.4');
    resolver.resolve('172.18.0.7', '1.2.3.4');
    expect(reported).toEqual(['172.18.0.7']);
  });

  it('resolves a real host name through the system resolver', async () => {
    const resolver = new ClientAddressResolver(['localhost']);
    await resolver.refreshHosts();
    expect(resolver.resolve('127.0.0.1', '203.0.113.7')).toBe('203.0.113.7');
  });
});

describe('originAllowed', () => {
  it('allows any origin when unset and a missing Origin always', () => {
    expect(originAllowed('https://x', undefined)).toBe(true);
    expect(originAllowed(undefined, ['https://a'])).toBe(true);
    expect(originAllowed('https://a', ['https://a'])).toBe(true);
    expect(originAllowed('https://b', ['https://a'])).toBe(false);
  });
});
