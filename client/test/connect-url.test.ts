import { connectRequest } from '@matomo-live/client';

describe('connectRequest', () => {
  it('sends the token as a subprotocol by default and keeps it out of the URL', () => {
    const request = connectRequest({
      url: 'https://live.example.org/ws',
      token: 'tok-123',
      tokenTransport: 'subprotocol',
      site: 2,
      fields: ['summary'],
    });
    expect(request.protocols).toEqual(['matomo-live.v1', 'token.tok-123']);
    expect(request.url).toBe('wss://live.example.org/ws?site=2&fields=summary');
  });

  it('asks for status messages with status=1 only when told to', () => {
    const base = { url: 'ws://h/ws', tokenTransport: 'subprotocol' as const, site: 1 };
    expect(connectRequest({ ...base, status: true }).url).toBe('ws://h/ws?site=1&status=1');
    expect(connectRequest({ ...base, status: false }).url).toBe('ws://h/ws?site=1');
    expect(connectRequest(base).url).toBe('ws://h/ws?site=1');
  });

  it("puts the token in the reference's ?token= when asked, URL-encoded", () => {
    const request = connectRequest({ url: 'ws://127.0.0.1:8080/', token: 'a b&c', tokenTransport: 'query' });
    expect(request.url).toBe('ws://127.0.0.1:8080/?token=a+b%26c');
    expect(request.protocols).toEqual(['matomo-live.v1']);
  });

  it('refuses a token a subprotocol cannot carry and a non-WebSocket scheme', () => {
    expect(() => connectRequest({ url: 'ws://h/', token: 'has space', tokenTransport: 'subprotocol' })).toThrow(/tokenTransport "query"/);
    expect(() => connectRequest({ url: 'ftp://h/', tokenTransport: 'subprotocol' })).toThrow(/unsupported URL scheme ftp:/);
  });
});
