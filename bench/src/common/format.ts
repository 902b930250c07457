/** Number formatting shared by the report's tables: an unmeasured value (NaN) prints as a dash. */

/** `v` with thousands separators and `digits` decimals; "—" for NaN (not measured). */
export const num = (v: number, digits = 0): string =>
  v === null || Number.isNaN(v) ? '—' : v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** Bytes as KiB with one decimal; "—" for NaN. */
export const kib = (bytes: number): string => (bytes === null || Number.isNaN(bytes) ? '—' : (bytes / 1024).toFixed(1));

/** `v` with an explicit sign (+ or −), for differences; "—" for NaN. */
export function signed(v: number, digits: number): string {
  return Number.isNaN(v) ? '—' : `${v >= 0 ? '+' : '−'}${num(Math.abs(v), digits)}`;
}

/** An error message fit for one table cell: no pipes, at most `max` characters. */
export const errorCell = (error: string, max: number): string => error.replace(/\|/g, '/').slice(0, max);
