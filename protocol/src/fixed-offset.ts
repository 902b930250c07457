/**
 * Matomo's fixed-offset site timezones, as a snapshot's `timezone` may carry
 * them: "UTC", "UTC+3", "UTC-4.5", "UTC+5:30". The poller (shared's
 * parseSiteTimezone) and the dashboard's clock read them alike.
 */
const FIXED_OFFSET = /^UTC(?:([+-])(\d{1,2})(?:(?:\.(\d+))|(?::(\d{2})))?)?$/i;

/** Minutes east of UTC of a fixed-offset zone name; undefined for anything else (an IANA name). */
export function fixedOffsetMinutes(zone: string): number | undefined {
  const match = FIXED_OFFSET.exec(zone.trim());
  if (!match) return undefined;
  const [, sign, hours = '0', fraction, minutes] = match;
  const total = Number(hours) * 60 + (fraction !== undefined ? Math.round(Number(`0.${fraction}`) * 60) : Number(minutes ?? 0));
  return sign === '-' ? -total : total;
}
