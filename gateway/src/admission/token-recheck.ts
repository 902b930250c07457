import { CloseCode } from '@matomo-live/protocol';
import { grantAllows } from './token-auth';
import type { TokenVerifier } from './token-sources';

/** What a re-check needs of a connection. */
export interface TokenHolder {
  readonly info: { readonly tokenKey: string; readonly siteId: number };
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
  private readonly byKey = new Map<string, { token: string; sessions: Set<S> }>();
  private running: Promise<number> = Promise.resolve(0);

  add(session: S, token: string): void {
    const entry = this.byKey.get(session.info.tokenKey);
    if (entry !== undefined) entry.sessions.add(session);
    else this.byKey.set(session.info.tokenKey, { token, sessions: new Set([session]) });
  }

  remove(session: S): void {
    const entry = this.byKey.get(session.info.tokenKey);
    if (entry === undefined) return;
    entry.sessions.delete(session);
    if (entry.sessions.size === 0) this.byKey.delete(session.info.tokenKey);
  }

  /** Distinct tokens held. */
  get size(): number {
    return this.byKey.size;
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
    for (const [tokenKey, entry] of [...this.byKey]) {
      if (++done % BATCH === 0) await new Promise((resolve) => setImmediate(resolve));
      const result = await verifier.verify(entry.token);
      if (this.byKey.get(tokenKey) !== entry) continue;
      for (const session of [...entry.sessions]) {
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
