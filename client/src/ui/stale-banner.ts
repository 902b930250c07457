import type { StatusMessage } from '@matomo-live/protocol';
import { staleText } from './format';

/** How often a shown banner re-reads the status, so its "last update … ago" keeps up. */
export const STALE_REFRESH_MS = 15_000;

export interface IntervalTimers {
  setInterval(callback: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

/** What the banner writes to: its element (hidden while the data is live) and its text. */
export interface BannerElements {
  banner: { hidden: boolean };
  text: { textContent: string | null };
}

/**
 * "Data delayed — last update 3 min ago: Matomo unreachable", while the
 * site's status is stale. `read` gives the status with its age brought up to
 * now (LiveClient.siteStatus); one timer refreshes the text while the banner
 * is shown, and none runs while it is hidden. The text is rewritten only when
 * it changes: it sits in a live region, and a screen reader reads each change.
 */
export class StaleBanner {
  private timer: unknown = null;

  constructor(
    private readonly elements: BannerElements,
    private readonly read: () => StatusMessage | undefined,
    private readonly timers: IntervalTimers,
  ) {}

  /** Shows, refreshes or hides the banner from the current status; true while the data is stale. */
  update(): boolean {
    const status = this.read();
    const { banner, text } = this.elements;
    if (status?.state !== 'stale') {
      banner.hidden = true;
      if (this.timer !== null) this.timers.clearInterval(this.timer);
      this.timer = null;
      return false;
    }
    const line = staleText(status);
    if (text.textContent !== line) text.textContent = line;
    banner.hidden = false;
    this.timer ??= this.timers.setInterval(() => this.update(), STALE_REFRESH_MS);
    return true;
  }
}
