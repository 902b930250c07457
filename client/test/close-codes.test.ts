import { ClientCloseCode, CloseCode, isAuthFailure } from '@matomo-live/client';

describe('isAuthFailure', () => {
  it('is true exactly for the codes a reconnect cannot fix', () => {
    const all = [...Object.values(CloseCode), ...Object.values(ClientCloseCode)].filter((v): v is number => typeof v === 'number');
    expect(all.filter(isAuthFailure)).toEqual([4001, 4002, 4003, 4004]);
    expect(all).toEqual(expect.arrayContaining([1001, 1013, 4005, 1000, 1006, 4900]));
  });
});
