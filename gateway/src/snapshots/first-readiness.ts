import type { IntervalClock } from '@matomo-live/protocol';
import type { Logger, SnapshotFeed } from '@matomo-live/shared';
import type { SnapshotHub } from './snapshot-hub';
import { LOG_DOCS } from '../log-docs';

export interface FirstReadinessOptions {
  feed: SnapshotFeed;
  hub: SnapshotHub;
  siteIds: readonly number[];
  clock: IntervalClock;
  logger: Logger;
  /** Never ready for this long: say so at error level, ms. Default 10000. */
  alertAfterMs?: number;
}

/**
 * Whether the gateway has anything to serve yet: its feed was subscribed at
 * least once, or it holds a snapshot. Before that, upgrades are refused
 * (admission/upgrade-admission.ts): a gateway that never reached Redis would accept clients and
 * send them nothing. Once reached it stays so — a later Redis outage keeps
 * the last snapshot, which new clients still get. watch() logs the first
 * readiness and, at error level, a gateway still without one after `alertAfterMs`.
 */
export class FirstReadiness {
  private everReady = false;
  private timer: unknown;

  constructor(private readonly options: FirstReadinessOptions) {}

  get reached(): boolean {
    const { feed, hub, siteIds } = this.options;
    return (this.everReady ||= feed.isReady() || siteIds.some((site) => hub.snapshot(site) !== null));
  }

  watch(): void {
    const { clock, logger, alertAfterMs = 10_000 } = this.options;
    const startedAt = clock.now();
    let alerted = false;
    this.timer = clock.setInterval(() => {
      if (this.reached) {
        if (alerted) logger.info('snapshot feed ready: accepting WebSocket clients');
        this.stop();
        return;
      }
      if (!alerted && clock.now() - startedAt >= alertAfterMs) {
        alerted = true;
        logger.error(
          { waitedMs: clock.now() - startedAt, docs: LOG_DOCS.redisFaults },
          'no snapshot feed yet: refusing WebSocket upgrades with 503',
        );
      }
    }, 1000);
    (this.timer as { unref?: () => void }).unref?.();
  }

  stop(): void {
    if (this.timer !== undefined) this.options.clock.clearInterval(this.timer);
    this.timer = undefined;
  }
}
