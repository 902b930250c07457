import type { ConnectionState, StatusEvent } from '../live-client';
import { closeRule, fixedOffsetMinutes, staleReasonText, type StatusMessage } from '@matomo-live/protocol';

const counts = new Intl.NumberFormat('en-US');

/** 12345 → "12,345"; anything not a finite number → "–". */
export function formatCount(value: unknown): string {
  return typeof value === 'number' && Number.isFinite(value) ? counts.format(value) : '–';
}

/** Matomo's "YYYY-MM-DD HH:MM:SS" (site-local) → "HH:MM:SS"; anything else is shown as given. */
export function timeOfDay(dateTime: string): string {
  const match = /^\d{4}-\d{2}-\d{2}[ T](\d{2}:\d{2}:\d{2})/.exec(dateTime);
  return match?.[1] ?? dateTime;
}

const two = (n: number) => String(n).padStart(2, '0');
const utcTimeOfDay = (date: Date) => `${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())}`;

/**
 * An instant on the site's clock — the clock Matomo's visit times are in — as
 * 24-hour "HH:MM:SS", with the zone that labels it. Never the browser's own
 * zone or 12-hour format: a wall screen in another country must show the
 * same times as the visits table. `zone` is the snapshot's timezone (an IANA
 * name or "UTC+3"); missing or unknown, the time is UTC and labelled so.
 */
export function siteTimeOfDay(instant: string | number, zone: string | undefined): { time: string; zone: string } {
  const ms = typeof instant === 'number' ? instant : Date.parse(instant);
  const name = zone?.trim() || 'UTC';
  if (!Number.isFinite(ms)) return { time: '–', zone: name };
  const offset = fixedOffsetMinutes(name);
  if (offset !== undefined) return { time: utcTimeOfDay(new Date(ms + offset * 60_000)), zone: name };
  try {
    const time = new Intl.DateTimeFormat('en-GB', {
      timeZone: name,
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    }).format(ms);
    return { time, zone: name };
  } catch {
    return { time: utcTimeOfDay(new Date(ms)), zone: 'UTC' };
  }
}

/** One line for the connection indicator (read out by screen readers as it changes). */
export function statusText(status: StatusEvent): string {
  switch (status.state) {
    case 'connecting':
      return 'Connecting…';
    case 'live':
      return 'Live';
    case 'reconnecting': {
      const seconds = Math.max(1, Math.ceil((status.retryInMs ?? 0) / 1000));
      return `Reconnecting (attempt ${status.attempt}, next try within ${seconds} s)`;
    }
    case 'closed':
      if (status.authFailed) return `Disconnected: ${closeRule(status.code ?? 0).reason || status.reason || 'refused'}`;
      // Without a close code nothing was tried yet: the reason says what is missing.
      return status.code === undefined && status.reason ? status.reason : 'Disconnected';
  }
}

/** CSS modifier of the indicator for a state. */
export function statusClass(state: ConnectionState): string {
  return `status--${state}`;
}

/** How long ago the data was read: "just now", "42 s ago", "3 min ago", "2 h ago"; "no data yet" without any. */
export function lastUpdateText(ageMs: number | null): string {
  if (ageMs === null) return 'no data yet';
  const seconds = Math.floor(ageMs / 1000);
  if (seconds < 5) return 'last update just now';
  if (seconds < 60) return `last update ${seconds} s ago`;
  if (seconds < 3600) return `last update ${Math.floor(seconds / 60)} min ago`;
  return `last update ${Math.floor(seconds / 3600)} h ago`;
}

/** The stale banner's line: "Data delayed — last update 3 min ago: Matomo unreachable". */
export function staleText(status: StatusMessage): string {
  const why = status.reason === null ? '' : `: ${staleReasonText(status.reason)}`;
  return `Data delayed — ${lastUpdateText(status.data_age_ms)}${why}`;
}
