import { CLOSE_CODE_RULES, CloseCode, closeRule } from '../src/close-codes';

describe('the close-code table', () => {
  const codes = Object.values(CloseCode).filter((v): v is CloseCode => typeof v === 'number');

  it('has a reason of at most 123 bytes and a rule for every code of the enum, and nothing else', () => {
    expect(Object.keys(CLOSE_CODE_RULES).map(Number).sort()).toEqual([...codes].sort());
    for (const code of codes) {
      const { reason, action } = CLOSE_CODE_RULES[code];
      expect(new TextEncoder().encode(reason).length).toBeLessThanOrEqual(123);
      expect(reason).not.toBe('');
      expect(['reconnect', 'stop']).toContain(action);
    }
  });

  it('stops exactly on the token and site refusals, which a reconnect cannot fix', () => {
    expect(codes.filter((code) => CLOSE_CODE_RULES[code].action === 'stop')).toEqual([4001, 4002, 4003, 4004]);
  });

  it('keeps the reference script’s 4001', () => {
    expect(CloseCode.InvalidToken).toBe(4001);
  });

  it('treats a code it does not know (a newer server’s, a proxy’s, a cut connection) as transient', () => {
    for (const code of [1006, 1011, 1012, 4006, 4099, 4999])
      expect(closeRule(code)).toEqual({ reason: '', action: 'reconnect', mayCarryHint: false, known: false });
    expect(closeRule(4001)).toEqual({ reason: 'Invalid token', action: 'stop', mayCarryHint: false, known: true });
  });
});
