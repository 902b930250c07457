import type { StatusMessage } from '@matomo-live/protocol';

/**
 * The latest status message of each site (`?status=1`), kept across
 * reconnects: a new connection's first status replaces it. Reading one
 * advances a stale site's `data_age_ms` by the local time since the message
 * arrived (the injected clock's `now`), so no server and client clocks are
 * ever compared. A live site's age is given as it arrived: its data is
 * refreshed without new messages (the gateway speaks again only on a change),
 * so it stays under `stale_after_ms` as long as the site is live.
 */
export class SiteStatuses {
  private readonly bySite = new Map<number | undefined, [StatusMessage, number]>();

  constructor(private readonly now: () => number) {}

  keep(message: StatusMessage): void {
    // Under its site, and under `undefined`: the one received last.
    const kept: [StatusMessage, number] = [message, this.now()];
    this.bySite.set(message.site, kept).set(undefined, kept);
  }

  /** The site's status (or, without a site, the one received last), with the age of stale data brought up to now. */
  get(site?: number): StatusMessage | undefined {
    const [message, at] = this.bySite.get(site) ?? [];
    if (!message) return undefined;
    const age = message.data_age_ms;
    return { ...message, data_age_ms: message.state === 'stale' && age !== null ? age + Math.max(0, this.now() - (at as number)) : age };
  }
}
