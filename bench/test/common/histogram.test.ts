import { LatencyHistogram } from '../../src/common/histogram';

describe('LatencyHistogram', () => {
  it('answers percentiles within 1 % of the exact value, and the exact max', () => {
    const h = new LatencyHistogram();
    for (let i = 1; i <= 1000; i++) h.record(i / 10); // 0.1 … 100 ms
    expect(h.count).toBe(1000);
    expect(h.max).toBe(100);
    expect(h.percentile(0.5)).toBeGreaterThanOrEqual(50);
    expect(h.percentile(0.5)).toBeLessThanOrEqual(50 * 1.01);
    expect(h.percentile(0.99)).toBeGreaterThanOrEqual(99);
    expect(h.percentile(0.99)).toBeLessThanOrEqual(99 * 1.01);
  });

  it('merges what other processes recorded (through JSON, as over IPC)', () => {
    const a = new LatencyHistogram();
    const b = new LatencyHistogram();
    for (let i = 0; i < 90; i++) a.record(1);
    for (let i = 0; i < 10; i++) b.record(200);
    a.merge(JSON.parse(JSON.stringify(b)));
    expect(a.count).toBe(100);
    expect(a.max).toBe(200);
    expect(a.percentile(0.9)).toBeLessThan(1.02);
    expect(a.percentile(0.95)).toBeGreaterThanOrEqual(198);
  });

  it('is NaN when empty and records negative skew as zero', () => {
    const h = new LatencyHistogram();
    expect(h.percentile(0.5)).toBeNaN();
    h.record(-3);
    expect(h.percentile(0.5)).toBeLessThanOrEqual(0.001);
  });
});
