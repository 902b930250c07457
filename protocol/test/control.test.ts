import { authMessage, PING_MESSAGE, PONG_MESSAGE } from '@matomo-live/protocol';

describe('control messages', () => {
  it('writes the auth message as the gateway reads it, any token text escaped', () => {
    expect(JSON.parse(authMessage('a.b.c'))).toEqual({ type: 'auth', token: 'a.b.c' });
    expect(JSON.parse(authMessage('quote"and\\backslash'))).toEqual({ type: 'auth', token: 'quote"and\\backslash' });
  });

  it('keeps ping and pong as the fixed texts clients and gateways compare', () => {
    expect([JSON.parse(PING_MESSAGE), JSON.parse(PONG_MESSAGE)]).toEqual([{ type: 'ping' }, { type: 'pong' }]);
  });
});
