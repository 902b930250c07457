import type { Clock } from '@matomo-live/protocol';
import type { Logger } from '@matomo-live/shared';
import type { LeaseManager } from './redis-lease';
import { forgetLeadState, type SiteState } from './site-state';

/** Retry period of a lease round that failed (Redis unreachable), ms. */
export const LEASE_RETRY_MS = 250;

export interface LeaseLoopDeps {
  leases: LeaseManager;
  /** The poller's sites: the loop sets their leaderUntil. */
  sites: Map<number, SiteState>;
  clock: Clock;
  log: Logger;
  /** Renew/acquire period, ms. */
  refreshMs: number;
  /** false once the poller stops: the loop ends. */
  isRunning: () => boolean;
  /** A round won at least one site: poll it now. */
  onWon: () => void;
}

/** Takes or keeps each site's lease every refreshMs; logs outages and standby once per change. */
export class LeaseLoop {
  private timer: unknown;
  private round: Promise<void> | undefined;
  /** When lease rounds started failing (Redis unreachable), and how many failed: one warn per outage, one info after. */
  private outage: { since: number; rounds: number } | undefined;
  /** The sites another poller leads, as last logged ("" before the first round). */
  private standbyLogged = '';

  constructor(private readonly deps: LeaseLoopDeps) {}

  /** Runs a round now (the next ones follow by themselves); resolves when it is done. */
  run(): Promise<void> {
    this.round = this.refresh().finally(() => (this.round = undefined));
    return this.round;
  }

  /** No further rounds; resolves once a round in flight is done. */
  stop(): Promise<void> {
    this.deps.clock.clearTimeout(this.timer);
    return this.round ?? Promise.resolve();
  }

  /** Gives back the leases still held (a clean stop: the standby takes over at its next round). */
  async releaseHeld(): Promise<void> {
    const { leases, sites, clock, log } = this.deps;
    for (const [siteId, state] of sites) {
      if (state.leaderUntil <= clock.now()) continue;
      state.leaderUntil = 0;
      await leases
        .release(siteId)
        .catch((error: Error) => log.warn({ siteId, err: error }, 'could not release the lease; it expires by itself'));
    }
  }

  /** Lease round: take or keep each site's lease; a site just won is polled at once. */
  private async refresh(): Promise<void> {
    const { leases, sites, clock, log, isRunning } = this.deps;
    let won = false;
    let failed = false;
    let firstError: unknown;
    for (const [siteId, state] of sites) {
      if (!isRunning()) return;
      const askedAt = clock.now();
      try {
        const held = await leases.acquire(siteId);
        const was = clock.now() < state.leaderUntil;
        state.leaderUntil = held ? askedAt + leases.ttlMs : 0;
        if (held && !was) {
          won = true;
          // Another poller may have moved the cursor and the latest visits meanwhile: read both again.
          forgetLeadState(state);
          log.info({ siteId, owner: leases.owner }, 'leading this site');
        } else if (!held && was) {
          forgetLeadState(state);
          log.warn({ siteId }, 'lost the lease; another poller leads this site');
        }
      } catch (error) {
        // Keep what we know: our lease runs out by itself at leaderUntil, and publishing is fenced.
        firstError ??= error;
        failed = true;
      }
    }
    if (!isRunning()) return;
    this.logRound(failed, firstError);
    // After a failed round (Redis reconnecting) ask again soon: leadership should come back with Redis.
    const next = failed ? Math.min(this.deps.refreshMs, LEASE_RETRY_MS) : this.deps.refreshMs;
    this.timer = clock.setTimeout(() => void this.run(), next);
    if (won) this.deps.onWon();
  }

  /**
   * One line when lease rounds start failing (Redis unreachable: they are retried every 250 ms, which
   * used to log ~40 warnings in 10 s), one when they work again; and once per change, which sites this
   * poller is standby for.
   */
  private logRound(failed: boolean, error: unknown): void {
    const { clock, log, sites } = this.deps;
    const now = clock.now();
    if (failed) {
      if (this.outage === undefined) {
        this.outage = { since: now, rounds: 0 };
        log.warn(
          { err: error, sites: [...sites.keys()], retryMs: LEASE_RETRY_MS, docs: 'docs/POLLER.md#one-active-poller-per-site-the-lease' },
          'lease round failed: Redis unreachable? Retrying; held leases expire by themselves',
        );
      }
      this.outage.rounds++;
      return;
    }
    if (this.outage !== undefined) {
      log.info({ failedRounds: this.outage.rounds, downMs: now - this.outage.since }, 'lease rounds work again');
      this.outage = undefined;
    }
    const standby = [...sites].filter(([, s]) => !(now < s.leaderUntil)).map(([siteId]) => siteId);
    const key = standby.join(',');
    if (key === this.standbyLogged) return;
    this.standbyLogged = key;
    if (standby.length > 0) {
      log.info({ sites: standby }, 'standby: another poller holds the lease of these sites; taking over when it lapses');
    }
  }
}
