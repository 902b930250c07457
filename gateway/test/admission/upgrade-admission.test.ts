import { AcceptPacer, fullGatewayHintMs, refusalBeforeUpgrade } from '../../src/admission/upgrade-admission';

describe('refusalBeforeUpgrade', () => {
  it('refuses while draining, before the feed was ever ready, and while shedding; accepts otherwise', () => {
    const ok = { draining: false, everReady: true, shedding: false };
    expect(refusalBeforeUpgrade(ok)).toBeUndefined();
    expect(refusalBeforeUpgrade({ ...ok, draining: true })).toBe('draining');
    expect(refusalBeforeUpgrade({ ...ok, everReady: false })).toBe('not-ready');
    expect(refusalBeforeUpgrade({ ...ok, shedding: true })).toBe('rebalancing');
    expect(refusalBeforeUpgrade({ draining: true, everReady: false, shedding: true })).toBe('draining');
  });
});

describe('AcceptPacer', () => {
  it('accepts a burst of `rate`, then hands the excess consecutive slots 1000/rate ms apart (plus jitter)', () => {
    let now = 10_000;
    const pacer = new AcceptPacer(
      100,
      () => now,
      () => 0,
    );
    for (let i = 0; i < 100; i++) expect(pacer.take()).toBeUndefined();
    // 10 ms per slot at 100/s: the 101st comes back in 10 ms, the 102nd in 20, …
    expect([pacer.take(), pacer.take(), pacer.take()]).toEqual([10, 20, 30]);
    now += 1000;
    // A second later the bucket has refilled: accepted again (the queue slots have passed too).
    expect(pacer.take()).toBeUndefined();
  });

  it('spreads a storm over storm / rate seconds', () => {
    const pacer = new AcceptPacer(
      1000,
      () => 0,
      () => 0.5,
      200,
    );
    const hints = Array.from({ length: 6000 }, () => pacer.take()).filter((h): h is number => h !== undefined);
    expect(hints).toHaveLength(5000);
    expect(hints[0]).toBe(1 + 100);
    expect(hints[hints.length - 1]).toBe(5000 + 100);
  });

  it('refills in proportion to the time passed, up to one second of burst', () => {
    let now = 0;
    const pacer = new AcceptPacer(
      10,
      () => now,
      () => 0,
    );
    for (let i = 0; i < 10; i++) pacer.take();
    now = 250;
    expect([pacer.take(), pacer.take(), pacer.take()]).toEqual([undefined, undefined, expect.any(Number)]);
    now = 60_000;
    expect(Array.from({ length: 11 }, () => pacer.take()).filter((h) => h === undefined)).toHaveLength(10);
  });

  it('hasRoom says whether take() would accept, and takes nothing', () => {
    let now = 0;
    const pacer = new AcceptPacer(
      2,
      () => now,
      () => 0,
    );
    expect([pacer.hasRoom(), pacer.hasRoom(), pacer.hasRoom()]).toEqual([true, true, true]);
    expect([pacer.take(), pacer.take()]).toEqual([undefined, undefined]);
    expect(pacer.hasRoom()).toBe(false);
    now = 499;
    expect(pacer.hasRoom()).toBe(false);
    now = 500;
    expect(pacer.hasRoom()).toBe(true);
    expect([pacer.take(), pacer.hasRoom()]).toEqual([undefined, false]);
  });
});

describe('fullGatewayHintMs', () => {
  it('is between 1 and 5 s', () => {
    expect(fullGatewayHintMs(() => 0)).toBe(1000);
    expect(fullGatewayHintMs(() => 0.999)).toBeLessThan(5000);
  });
});
