import { fixedOffsetMinutes } from '@matomo-live/protocol';
/**
 * A Matomo site's timezone, as SitesManager.getSiteFromId states it: an IANA
 * name ("Europe/Paris") or a fixed offset ("UTC", "UTC+3", "UTC-4.5",
 * "UTC+5:30"). Matomo resolves `date=today` and friends in this zone, and the
 * reference script shows `lastActionDateTime` in local time, so both the
 * poller and the simulator need the same arithmetic.
 */
export interface SiteTimezone {
  /** The zone as Matomo wrote it. */
  readonly name: string;
  /** Offset from UTC in minutes at the instant `epochMs`. */
  offsetMinutes(epochMs: number): number;
}

/** Parses a Matomo timezone; throws an Error naming the value when it is not one. */
export function parseSiteTimezone(name: string): SiteTimezone {
  const offset = fixedOffsetMinutes(name);
  if (offset !== undefined) {
    if (Math.abs(offset) > 14 * 60) throw new Error(`timezone "${name}" is more than 14 hours from UTC`);
    return { name, offsetMinutes: () => offset };
  }
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: name,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  } catch {
    throw new Error(`timezone "${name}" is neither an IANA name nor a UTC±H offset`);
  }
  return {
    name,
    offsetMinutes(epochMs: number): number {
      const p: Record<string, number> = {};
      for (const part of format.formatToParts(new Date(epochMs))) if (part.type !== 'literal') p[part.type] = Number(part.value);
      const wall = Date.UTC(p.year!, p.month! - 1, p.day, p.hour, p.minute, p.second);
      return Math.round((wall - Math.floor(epochMs / 1000) * 1000) / 60_000);
    },
  };
}

/** "YYYY-MM-DD HH:MM:SS" of `epochMs` on the site's wall clock. */
export function formatLocalDateTime(epochMs: number, zone: SiteTimezone): string {
  return isoWall(epochMs, zone).replace('T', ' ').slice(0, 19);
}

/** "YYYY-MM-DD" of `epochMs` on the site's wall clock. */
export function localDate(epochMs: number, zone: SiteTimezone): string {
  return isoWall(epochMs, zone).slice(0, 10);
}

/** The UTC instant (ms) at which the site-local day `date` ("YYYY-MM-DD") begins. */
export function startOfLocalDay(date: string, zone: SiteTimezone): number {
  const wallMidnight = Date.parse(`${date}T00:00:00Z`);
  if (Number.isNaN(wallMidnight)) throw new Error(`"${date}" is not a YYYY-MM-DD date`);
  // Two rounds converge for every real zone: the offset at the guess settles the offset at the answer.
  let guess = wallMidnight - zone.offsetMinutes(wallMidnight) * 60_000;
  guess = wallMidnight - zone.offsetMinutes(guess) * 60_000;
  return guess;
}

/** `date` ("YYYY-MM-DD") moved by `days` calendar days. */
export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

/** ISO 8601 UTC with second precision: "2024-07-04T16:43:37Z". */
export function utcIsoSeconds(epochMs: number): string {
  return new Date(Math.floor(epochMs / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

function isoWall(epochMs: number, zone: SiteTimezone): string {
  return new Date(epochMs + zone.offsetMinutes(epochMs) * 60_000).toISOString();
}
