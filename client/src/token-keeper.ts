import { authMessage, type Clock } from '@matomo-live/protocol';

/** A token, or a function that returns a fresh one (called for every connection and before each `exp`). */
export type TokenSource = string | (() => string | Promise<string>);

/** Refresh when this share of a signed token's remaining life has passed… */
const REFRESH_SHARE = 0.8;
/** …and at the latest this long before its `exp`, ms. */
const REFRESH_MARGIN_MS = 5000;
/** Wait at least this long between refresh attempts (a provider that failed, or gave no newer token), ms. */
const MIN_RETRY_MS = 1000;

/**
 * When a JWT expires, ms since epoch, read from its payload without
 * verifying it (the client only plans a refresh; the gateway verifies).
 * undefined for anything else: a static token, a payload without `exp`.
 */
export function tokenExpiry(token: string): number | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[1] === undefined) return undefined;
  try {
    const base64 = parts[1].replace(/-/g, '+').replace(/_/g, '/');
    const bytes = Uint8Array.from(atob(base64.padEnd(Math.ceil(base64.length / 4) * 4, '=')), (c) => c.charCodeAt(0));
    const exp = (JSON.parse(new TextDecoder().decode(bytes)) as { exp?: unknown }).exp;
    return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/** How long to wait before refreshing a token that expires at `expiresAt`: 80 % of its remaining life, and 5 s before `exp` at the latest. */
export function refreshDelay(expiresAt: number, now: number): number {
  const remaining = expiresAt - now;
  return Math.max(0, Math.min(remaining * REFRESH_SHARE, remaining - REFRESH_MARGIN_MS));
}

/**
 * The client's token: a fixed one, or a provider asked for a fresh token for
 * each connection and, while a connection is open, again before the current
 * one's `exp`; the fresh token goes to the gateway in an `auth` message, so
 * the session goes on instead of ending with 4002.
 */
export class TokenKeeper {
  private current: string | undefined;
  private timer: unknown = null;
  /** Bumped by stop(): a provider answer for an older connection is dropped. */
  private generation = 0;

  constructor(
    private source: TokenSource | undefined,
    private readonly clock: Clock,
  ) {
    if (typeof source === 'string') this.current = source;
  }

  /** True when a provider gives the tokens (a connection must wait for it). */
  get hasProvider(): boolean {
    return typeof this.source === 'function';
  }

  /** The token of the last connection (or the fixed one). */
  get token(): string | undefined {
    return this.current;
  }

  /** Replaces the token or provider for the next connection. */
  set(source: TokenSource): void {
    this.source = source;
    this.current = typeof source === 'string' ? source : undefined;
  }

  /** The token for a new connection: a fresh one from the provider, else the fixed one. */
  async forConnection(): Promise<string | undefined> {
    if (typeof this.source === 'function') this.current = await this.source();
    return this.current;
  }

  /**
   * The connection is open: refresh before `exp` and hand each fresh token to
   * `send` (false once the connection is gone). Nothing to do for a fixed
   * token or one without `exp`.
   */
  watch(send: (text: string) => boolean): void {
    this.stop();
    this.schedule(send, this.generation);
  }

  /** The connection ended: no more refreshes for it. */
  stop(): void {
    this.generation += 1;
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(send: (text: string) => boolean, generation: number, minDelay = 0): void {
    const provider = this.source;
    const expiresAt = this.current === undefined ? undefined : tokenExpiry(this.current);
    if (typeof provider !== 'function' || expiresAt === undefined) return;
    const delay = Math.max(minDelay, refreshDelay(expiresAt, this.clock.now()));
    this.timer = this.clock.setTimeout(() => {
      this.timer = null;
      void this.refresh(provider, expiresAt, send, generation);
    }, delay);
  }

  private async refresh(provider: () => string | Promise<string>, expiresAt: number, send: (text: string) => boolean, generation: number) {
    let fresh: string | undefined;
    try {
      fresh = await provider();
    } catch {
      fresh = undefined;
    }
    if (generation !== this.generation) return;
    const freshExpiry = fresh === undefined ? undefined : tokenExpiry(fresh);
    // A provider that failed or still has the same token: ask again soon; the gateway ends the session at exp otherwise.
    if (fresh === undefined || (freshExpiry !== undefined && freshExpiry <= expiresAt)) {
      if (this.clock.now() < expiresAt) this.schedule(send, generation, MIN_RETRY_MS);
      return;
    }
    if (!send(authMessage(fresh))) return;
    this.current = fresh;
    this.schedule(send, generation, MIN_RETRY_MS);
  }
}
