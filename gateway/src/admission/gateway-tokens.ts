import type { IntervalClock } from '@matomo-live/protocol';
import type { GatewayConfig, Logger } from '@matomo-live/shared';
import type { GatewayMetrics } from '../metrics/gateway-metrics';
import { TokenMetrics } from '../metrics/token-metrics';
import type { ClientSession } from '../sessions/client-session';
import { SessionTokens } from '../sessions/session-tokens';
import type { TokenGrant } from './token-auth';
import { OpenTokens } from './token-recheck';
import { TokenSources } from './token-sources';

export interface GatewayTokensOptions {
  config: GatewayConfig;
  logger: Logger;
  clock: IntervalClock;
  metrics: GatewayMetrics;
  /** HTTP client of JWT_JWKS_URL. Default: the global fetch. */
  fetch?: typeof fetch | undefined;
}

/**
 * Every token a gateway knows of, kept in step: the configured set (files and
 * JWT_JWKS_URL, re-read on change), the token each open connection holds now
 * (re-checked after a rotation) and each signed session's deadline (moved by an
 * in-band refresh). One place, so that a refresh updates both the deadline and
 * what a later rotation judges the session by.
 */
export class GatewayTokens {
  /** The configured set; `verify()` for upgrades and /debug. */
  readonly sources: TokenSources;
  private readonly open = new OpenTokens<ClientSession>();
  private readonly deadlines: SessionTokens<ClientSession>;

  constructor({ config, logger, clock, metrics, fetch }: GatewayTokensOptions) {
    const tokenMetrics = new TokenMetrics(metrics.registry);
    this.sources = new TokenSources({ settings: config, files: config.tokenFiles, logger, clock, fetch, metrics: tokenMetrics });
    this.deadlines = new SessionTokens<ClientSession>({ verify: (token) => this.sources.verify(token), clock, metrics, logger });
    // A rotation re-checks the open connections against the new set (no fetch: the set just swapped in).
    this.sources.onChange((auth) => {
      void this.open.recheck(auth, (session, code) => {
        tokenMetrics.revoked.inc();
        logger.info(
          { ip: session.info.ip, tokenId: session.info.tokenId, site: session.info.siteId, code },
          'token no longer accepted; closing',
        );
        session.close(code);
      });
    });
  }

  /** A connection admitted with `token` and its grant. */
  track(session: ClientSession, token: string, grant: TokenGrant): void {
    this.open.add(session, token);
    this.deadlines.track(session, grant);
  }

  /** A fresh token sent in-band (`{"type":"auth"}`). */
  async refresh(session: ClientSession, token: string): Promise<void> {
    if (!(await this.deadlines.refresh(session, token))) return;
    // A later rotation judges the token the session holds now, not the one it opened with.
    this.open.add(session, token);
  }

  forget(session: ClientSession): void {
    this.deadlines.forget(session);
    this.open.remove(session);
  }

  dispose(): void {
    this.deadlines.dispose();
  }
}
