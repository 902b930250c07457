import { CloseCode } from '@matomo-live/protocol';
import { grantAllows } from './token-auth';
import type { TokenVerifier } from './token-sources';

/** What a re-check needs of a connection. */
export interface TokenHolder {
  readonly info: { readonly siteId: number };
}

/** Distinct tokens verified between two turns of the event loop (a re-check of 100k connections must not stall deliveries). */
const BATCH = 200;

/**
 * The tokens of the open connections, so that after a rotation each distinct
 * token is verified once against the new set and the connections it no
 * longer admits are closed: 4001 (removed), 4002 (expired) or 4003 (the new
 * grant leaves out the connection's site). Tokens are kept in memory only,
 * like the configured ones, and never logged.
 */
export class OpenTokens<S extends TokenHolder> {
  // Keyed by the token itself, not the session's tokenKey: a session that refreshed in-band holds another token
  // than the one it was admitted with (and the key it was counted under), and must be judged by that one.
  private readonly byToken = new Map<string, Set<S>>();
  private readonly tokenOf = new Map<S, string>();
  private running: Promise<number> = Promise.resolve(0);

  /** The session holds `token` now (admitted with it, or refreshed to it). */
  add(session: S, token: string): void {
    this.remove(session);
    this.tokenOf.set(session, token);
    const sessions = this.byToken.get(token);
    if (sessions !== undefined) sessions.add(session);
    else this.byToken.set(token, new Set([session]));
  }

  remove(session: S): void {
    const token = this.tokenOf.get(session);
    if (token === undefined) return;
    this.tokenOf.delete(session);
    const sessions = this.byToken.get(token);
    sessions?.delete(session);
    if (sessions?.size === 0) this.byToken.delete(token);
  }

  /** Distinct tokens held. */
  get size(): number {
    return this.byToken.size;
  }

  /**
   * Verifies every held token with `verifier`, closing what it refuses; runs
   * after any re-check still going (the newest set always has the last word).
   * Resolves with the number of connections closed.
   */
  recheck(verifier: TokenVerifier, close: (session: S, code: CloseCode) => void): Promise<number> {
    this.running = this.running.then(() => this.run(verifier, close));
    return this.running;
  }

  private async run(verifier: TokenVerifier, close: (session: S, code: CloseCode) => void): Promise<number> {
    let closed = 0;
    let done = 0;
    for (const [token, sessions] of [...this.byToken]) {
      if (++done % BATCH === 0) await new Promise((resolve) => setImmediate(resolve));
      const result = await verifier.verify(token);
      if (this.byToken.get(token) !== sessions) continue;
      for (const session of [...sessions]) {
        const code = !result.ok ? result.code : grantAllows(result.grant, session.info.siteId) ? undefined : CloseCode.SiteNotAllowed;
        if (code === undefined) continue;
        this.remove(session);
        close(session, code);
        closed += 1;
      }
    }
    return closed;
  }
}
