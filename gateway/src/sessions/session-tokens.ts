import { CloseCode, type Clock } from '@matomo-live/protocol';
import { sitesWithin, tokenFingerprint, type Logger } from '@matomo-live/shared';
import { grantAllows, type AuthResult, type TokenGrant } from '../admission/token-auth';
import type { GatewayMetrics } from '../metrics/gateway-metrics';
import { DeadlineQueue } from './deadline-queue';

/** What this module needs of a connection (a ClientSession). */
export interface TokenHolder {
  readonly info: { readonly ip: string; readonly siteId: number };
  close(code: CloseCode): void;
}

export interface SessionTokensOptions {
  /** Verifies a fresh token (TokenAuth). */
  verify: (token: string) => Promise<AuthResult>;
  /** Time and the one deadline timer. */
  clock: Clock;
  metrics: Pick<GatewayMetrics, 'authFailures'>;
  logger: Logger;
}

/**
 * Sessions end with their tokens: a connection opened with a signed token is
 * closed with 4002 when its `exp` passes, unless the client handed a fresh
 * token in before (`{"type":"auth","token":"…"}`). A fresh token must be
 * valid (else 4001, or 4002 when already expired) and may see the same sites
 * as the connection's token or fewer, the connection's own included (else
 * 4003); it moves the deadline to its own `exp` (none for a static token).
 */
export class SessionTokens<S extends TokenHolder> {
  private readonly grants = new Map<S, { grant: TokenGrant; refreshes: number }>();
  private readonly deadlines: DeadlineQueue<S>;

  constructor(private readonly options: SessionTokensOptions) {
    this.deadlines = new DeadlineQueue(options.clock, (session) => this.expire(session));
  }

  /** A new connection and the grant it was admitted with. */
  track(session: S, grant: TokenGrant): void {
    this.grants.set(session, { grant, refreshes: 0 });
    this.schedule(session, grant);
  }

  /** The connection is gone. */
  forget(session: S): void {
    this.grants.delete(session);
    this.deadlines.delete(session);
  }

  /** When the session's token ends it, if it does. */
  deadlineOf(session: S): number | undefined {
    return this.deadlines.get(session);
  }

  /**
   * A fresh token from the client. Only the latest of several in flight
   * counts; a session closed meanwhile is left alone.
   */
  async refresh(session: S, token: string): Promise<boolean> {
    const entry = this.grants.get(session);
    if (entry === undefined) return false;
    const attempt = ++entry.refreshes;
    const result = await this.options.verify(token);
    if (this.grants.get(session) !== entry || entry.refreshes !== attempt) return false;
    const { logger, metrics } = this.options;
    const context = { ip: session.info.ip, site: session.info.siteId, tokenId: tokenFingerprint(token) };
    if (!result.ok) {
      metrics.authFailures.inc({ reason: `refresh-${result.reason}` });
      logger.info({ ...context, reason: result.reason }, 'token refresh refused');
      this.end(session, result.code);
      return false;
    }
    if (!sitesWithin(result.grant.sites, entry.grant.sites) || !grantAllows(result.grant, session.info.siteId)) {
      metrics.authFailures.inc({ reason: 'refresh-more-sites' });
      logger.info({ ...context, reason: 'more-sites' }, 'token refresh refused');
      this.end(session, CloseCode.SiteNotAllowed);
      return false;
    }
    entry.grant = result.grant;
    this.schedule(session, result.grant);
    logger.debug({ ...context, expiresAt: result.grant.expiresAt }, 'token refreshed');
    return true;
  }

  /** Stops the deadline timer (the gateway is going away). */
  dispose(): void {
    this.deadlines.clear();
    this.grants.clear();
  }

  private schedule(session: S, grant: TokenGrant): void {
    if (grant.expiresAt === undefined) this.deadlines.delete(session);
    else this.deadlines.set(session, grant.expiresAt);
  }

  private expire(session: S): void {
    if (!this.grants.has(session)) return;
    this.options.metrics.authFailures.inc({ reason: 'session-expired' });
    this.end(session, CloseCode.TokenExpired);
  }

  private end(session: S, code: CloseCode): void {
    this.forget(session);
    session.close(code);
  }
}
