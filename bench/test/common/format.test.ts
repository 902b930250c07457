import { errorCell, kib, num, signed } from '../../src/common/format';

describe('report number formatting', () => {
  it('groups thousands and fixes the decimals', () => {
    expect(num(12345.678)).toBe('12,346');
    expect(num(1.5, 2)).toBe('1.50');
  });

  it('prints NaN (not measured) as a dash', () => {
    expect(num(Number.NaN)).toBe('—');
    expect(kib(Number.NaN)).toBe('—');
    expect(signed(Number.NaN, 1)).toBe('—');
  });

  it('prints bytes as KiB with one decimal', () => {
    expect(kib(7782)).toBe('7.6');
  });

  it('signs differences with a real minus sign', () => {
    expect(signed(0.1, 2)).toBe('+0.10');
    expect(signed(-1200, 0)).toBe('−1,200');
  });

  it('fits an error into one table cell', () => {
    expect(errorCell('a | b | c', 5)).toBe('a / b');
  });
});
