import type { Clock } from '@matomo-live/protocol';
import { encodeHeartbeat, heartbeatTtlMs, type Logger, type SiteHeartbeat, type SnapshotPublisher } from '@matomo-live/shared';
import { siteHeartbeat } from './site-heartbeat-step';
import type { SiteState } from './site-state';

export interface HeartbeatLoopDeps {
  publisher: Pick<SnapshotPublisher, 'publishHeartbeat'>;
  /** The poller's sites: a heartbeat goes out for each one it leads. */
  sites: ReadonlyMap<number, SiteState>;
  clock: Clock;
  log: Logger;
  /** FETCH_INTERVAL, ms: sent in every heartbeat; the key's TTL is heartbeatTtlMs of it. */
  fetchIntervalMs: number;
  /** At least one round per this long, ms (PollerTiming.heartbeatMs); 0: rounds after ticks only. */
  periodMs: number;
  /** Matomo refuses the token or blocks this IP (the poller's tick health). */
  authBlocked: () => boolean;
  /** Called once per heartbeat publish (metrics). */
  onPublished?: (result: 'ok' | 'error') => void;
}

/**
 * The heartbeats of the led sites (shared/src/site-heartbeat.ts): a round
 * after every tick (beat()) and on its own timer when no round went out for
 * periodMs, since ticks can be minutes apart (an auth block, a back-off).
 * One round in flight at a time; a round asked for meanwhile follows it.
 * A failed publish never throws: one warning per failure streak, one line
 * when heartbeats go out again.
 */
export class HeartbeatLoop {
  private running = false;
  private timer: unknown;
  private inFlight: Promise<void> | undefined;
  private again = false;
  /** The current failure streak (rounds with a failed publish): one warning when it starts, one info when it ends. */
  private failing: { since: number; rounds: number } | undefined;

  constructor(private readonly deps: HeartbeatLoopDeps) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.arm();
  }

  /** No further rounds; resolves once a round in flight is done. */
  async stop(): Promise<void> {
    this.running = false;
    this.again = false;
    this.deps.clock.clearTimeout(this.timer);
    await this.inFlight;
  }

  /** A round now (after a tick); the timer counts the period again from its end. */
  beat(): void {
    if (!this.running) return;
    if (this.inFlight !== undefined) {
      this.again = true;
      return;
    }
    this.deps.clock.clearTimeout(this.timer);
    this.inFlight = this.round().finally(() => {
      this.inFlight = undefined;
      if (this.again) {
        this.again = false;
        this.beat();
      } else this.arm();
    });
  }

  private arm(): void {
    if (!this.running || this.deps.periodMs <= 0) return;
    this.deps.clock.clearTimeout(this.timer);
    this.timer = this.deps.clock.setTimeout(() => this.beat(), this.deps.periodMs);
  }

  private async round(): Promise<void> {
    const { sites, clock, fetchIntervalMs, publisher, onPublished } = this.deps;
    const context = { now: clock.now(), fetchIntervalMs, authBlocked: this.deps.authBlocked() };
    const beats: SiteHeartbeat[] = [];
    for (const [siteId, state] of sites) {
      const heartbeat = siteHeartbeat(siteId, state, context);
      if (heartbeat) beats.push(heartbeat);
    }
    if (beats.length === 0) return;
    const ttlMs = heartbeatTtlMs(fetchIntervalMs);
    // Promise.resolve().then: a publisher that throws synchronously fails its publish, not the round.
    const results = await Promise.allSettled(
      beats.map((h) => Promise.resolve().then(() => publisher.publishHeartbeat(h.site, encodeHeartbeat(h), ttlMs))),
    );
    const failed: number[] = [];
    let firstError: unknown;
    results.forEach((result, i) => {
      onPublished?.(result.status === 'fulfilled' ? 'ok' : 'error');
      if (result.status === 'fulfilled') return;
      failed.push(beats[i]!.site);
      firstError ??= result.reason;
    });
    this.logRound(failed, firstError);
  }

  private logRound(failed: number[], error: unknown): void {
    const { clock, log, periodMs } = this.deps;
    if (failed.length > 0) {
      if (this.failing === undefined) {
        this.failing = { since: clock.now(), rounds: 0 };
        log.warn({ err: error, sites: failed, retryMs: periodMs }, 'heartbeat not published (Redis unreachable?); retrying');
      }
      this.failing.rounds++;
      return;
    }
    if (this.failing === undefined) return;
    log.info({ failedRounds: this.failing.rounds, downMs: clock.now() - this.failing.since }, 'heartbeats published again');
    this.failing = undefined;
  }
}
