import type { Clock, StatusMessage } from '@matomo-live/protocol';
import { decodeHeartbeat, judgeFreshness, storedHeartbeatAgeMs, type HeartbeatSighting, type Logger } from '@matomo-live/shared';

export interface SiteFreshnessOptions {
  siteId: number;
  /** Heard-at times, the silence counted from the start, and the one recheck timer. */
  clock: Clock;
  logger: Logger;
  /** The site's state or reason is not the last one reported (the first known status too). */
  onChange: (status: StatusMessage) => void;
  /** A heartbeat that does not decode is logged at most once per this many ms. Default 60000. */
  malformedLogEveryMs?: number;
}

/**
 * Whether one site's data is current, as the gateway sees it: the latest
 * heartbeat of the site's poller and when it was heard, judged by the pure
 * judgeFreshness (shared/src/site-heartbeat.ts) on each heartbeat and once
 * more at the verdict's `recheckAt` (one timer, moved by each judgement), so
 * silence is noticed without any message. Reports a status only when `state`
 * or `reason` changes: a new `data_age_ms` alone is no news (clients add the
 * time since the message themselves). Silence is counted from construction:
 * nothing is known (no status) until the first heartbeat or the stale threshold.
 */
export class SiteFreshness {
  private sighting: HeartbeatSighting;
  private reported: StatusMessage | undefined;
  private timer: unknown;
  private closed = false;
  private lastMalformedLogAt = Number.NEGATIVE_INFINITY;
  /** Malformed heartbeats not logged since the last line. */
  private malformedUnlogged = 0;

  constructor(private readonly options: SiteFreshnessOptions) {
    const now = options.clock.now();
    this.sighting = { heartbeat: undefined, heardAt: now, since: now };
    this.judge();
  }

  /** The status as of now (`data_age_ms` at this moment), or undefined while it is not known yet. */
  current(): StatusMessage | undefined {
    return this.closed ? this.reported : this.judge();
  }

  /**
   * Takes a heartbeat's bytes: just published, or read from the store with the TTL it has left (then it was
   * heard storedHeartbeatAgeMs ago, when the poller stored it). Malformed ones are logged and ignored, never thrown.
   */
  heard(bytes: Buffer, ttlLeftMs?: number): void {
    if (this.closed) return;
    const { siteId } = this.options;
    const decoded = decodeHeartbeat(bytes);
    if ('error' in decoded) return this.malformed(decoded.error, bytes);
    if (decoded.heartbeat.site !== siteId) return this.malformed(`a heartbeat of site ${decoded.heartbeat.site}`, bytes);
    const now = this.options.clock.now();
    const storedFor = ttlLeftMs === undefined ? 0 : storedHeartbeatAgeMs(decoded.heartbeat, ttlLeftMs);
    this.sighting = { heartbeat: decoded.heartbeat, heardAt: now - storedFor, since: this.sighting.since };
    this.judge();
  }

  /** Stops the timer; no status is reported after this. */
  close(): void {
    this.closed = true;
    this.disarm();
  }

  /** Judges at the clock's now, reports a change, and sets the timer to the verdict's recheckAt. */
  private judge(): StatusMessage | undefined {
    const { siteId, clock } = this.options;
    const now = clock.now();
    const verdict = judgeFreshness(siteId, this.sighting, now);
    this.disarm();
    if (Number.isFinite(verdict.recheckAt)) {
      this.timer = clock.setTimeout(
        () => {
          this.timer = undefined;
          this.judge();
        },
        Math.max(0, verdict.recheckAt - now),
      );
      (this.timer as { unref?: () => void }).unref?.();
    }
    if (verdict.status === undefined) return undefined;
    const { site, state, reason, data_age_ms, stale_after_ms } = verdict.status;
    // The wire's field order is StatusMessage's.
    const message: StatusMessage = { type: 'status', site, state, reason, data_age_ms, stale_after_ms };
    const last = this.reported;
    if (last === undefined || last.state !== state || last.reason !== reason) {
      this.reported = message;
      this.options.onChange(message);
    }
    return message;
  }

  private disarm(): void {
    if (this.timer !== undefined) this.options.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private malformed(error: string, bytes: Buffer): void {
    const { siteId, clock, logger, malformedLogEveryMs = 60_000 } = this.options;
    this.malformedUnlogged += 1;
    const now = clock.now();
    if (now - this.lastMalformedLogAt < malformedLogEveryMs) return;
    logger.warn(
      { site: siteId, error, bytes: bytes.length, ignored: this.malformedUnlogged },
      'ignoring malformed heartbeats (logged at most once a minute per site)',
    );
    this.lastMalformedLogAt = now;
    this.malformedUnlogged = 0;
  }
}
