import type { ConnectionState, StatusEvent } from '../live-client';
import { closeRule } from '@matomo-live/protocol';

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
