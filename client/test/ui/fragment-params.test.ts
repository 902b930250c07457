import { gatewayUrlFor, parseFragment, withoutToken } from '../../src/ui/fragment-params';

describe('fragment parameters', () => {
  it('reads token and site from the fragment, ignoring junk', () => {
    expect(parseFragment('#token=tok&site=2')).toEqual({ token: 'tok', site: 2 });
    expect(parseFragment('#site=-1&token=')).toEqual({});
    expect(parseFragment('')).toEqual({});
  });

  it('removes only the token from a fragment', () => {
    expect(withoutToken('#token=tok&site=2')).toBe('#site=2');
    expect(withoutToken('#site=2&token=tok')).toBe('#site=2');
    expect(withoutToken('#token=tok')).toBe('');
    expect(withoutToken('')).toBe('');
  });

  it('derives the WebSocket URL from the page URL without carrying the fragment along', () => {
    expect(gatewayUrlFor('http://127.0.0.1:8080/dashboard/#token=tok')).toBe('ws://127.0.0.1:8080/ws');
    expect(gatewayUrlFor('https://live.example.org/dashboard/index.html?x=1')).toBe('wss://live.example.org/ws');
    expect(gatewayUrlFor('https://example.org/live/dashboard/#token=t')).toBe('wss://example.org/live/ws');
  });
});
