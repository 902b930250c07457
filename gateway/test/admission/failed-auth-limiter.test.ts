import { FailedAuthLimiter, limitKey } from '../../src/admission/failed-auth-limiter';

describe('FailedAuthLimiter', () => {
  let now: number;
  const limiter = (limit = 3) => new FailedAuthLimiter({ limit, windowMs: 60_000, now: () => now });

  beforeEach(() => {
    now = 1_000_000;
  });

  it('refuses an address once it has failed `limit` times, for the rest of the window that its first failure opened', () => {
    const l = limiter(3);
    expect([l.fail('10.0.0.1'), l.fail('10.0.0.1')]).toEqual([false, false]);
    expect(l.blockedFor('10.0.0.1')).toBeUndefined();
    now += 20_000;
    expect(l.fail('10.0.0.1')).toBe(true);
    expect(l.blockedFor('10.0.0.1')).toBe(40_000);
    now += 39_999;
    expect(l.blockedFor('10.0.0.1')).toBe(1);
    now += 1;
    expect(l.blockedFor('10.0.0.1')).toBeUndefined();
    // A new window: `limit` fresh failures before the next refusal.
    expect([l.fail('10.0.0.1'), l.fail('10.0.0.1'), l.fail('10.0.0.1')]).toEqual([false, false, true]);
  });

  it('counts each address alone', () => {
    const l = limiter(2);
    l.fail('10.0.0.1');
    l.fail('10.0.0.1');
    expect(l.blockedFor('10.0.0.1')).toBe(60_000);
    expect(l.blockedFor('10.0.0.2')).toBeUndefined();
    expect(l.fail('10.0.0.2')).toBe(false);
  });

  it('reports reaching the limit once: later failures of a refused address return false', () => {
    const l = limiter(1);
    expect([l.fail('a'), l.fail('a'), l.fail('a')]).toEqual([true, false, false]);
  });

  it('counts an IPv6 /64 as one address', () => {
    const l = limiter(2);
    l.fail('2001:db8:0:1::1');
    l.fail('2001:db8:0:1:ffff:ffff:ffff:ffff');
    expect(l.blockedFor('2001:db8:0:1::abcd')).toBe(60_000);
    expect(l.blockedFor('2001:db8:0:2::1')).toBeUndefined();
  });

  it('forgets ended windows, so memory holds only recent failures', () => {
    const l = limiter(5);
    for (let i = 0; i < 1000; i++) l.fail(`10.1.${i >> 8}.${i & 255}`);
    expect(l.trackedAddresses).toBe(1000);
    now += 60_000;
    l.fail('10.9.9.9');
    expect(l.trackedAddresses).toBe(1);
  });
});

describe('limitKey', () => {
  it.each([
    ['192.0.2.7', '192.0.2.7'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['2001:0DB8:0000:0001:0:0:0:1', '2001:db8:0:1::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['2001:db8:1:2:3::', '2001:db8:1:2::/64'],
    ['::ffff:192.0.2.1', '0:0:0:0::/64'],
  ])('%s → %s', (address, key) => {
    expect(limitKey(address)).toBe(key);
  });
});
