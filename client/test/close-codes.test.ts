import { CLOSE_CODE_RULES, ClientCloseCode, CloseCode, isAuthFailure } from '@matomo-live/client';

describe('isAuthFailure', () => {
  it('follows the protocol table: true exactly for its "stop" codes', () => {
    const gatewayCodes = Object.values(CloseCode).filter((v): v is CloseCode => typeof v === 'number');
    expect(gatewayCodes.filter(isAuthFailure)).toEqual(gatewayCodes.filter((code) => CLOSE_CODE_RULES[code].action === 'stop'));
    expect(gatewayCodes.filter(isAuthFailure)).toEqual([4001, 4002, 4003, 4004]);
  });

  it('is false for the codes the client reports itself and for codes it does not know', () => {
    const clientCodes = Object.values(ClientCloseCode).filter((v): v is number => typeof v === 'number');
    expect(clientCodes).toEqual([1000, 1006, 4900]);
    for (const code of [...clientCodes, 1011, 4006, 4999]) expect([code, isAuthFailure(code)]).toEqual([code, false]);
  });
});
