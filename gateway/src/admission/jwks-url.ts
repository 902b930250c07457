import { systemClock, type Clock } from '@matomo-live/protocol';
import { LOG_DOCS } from '../log-docs';
import { parseJwks, type Logger } from '@matomo-live/shared';

export type JwksDocument = { keys: object[] };

/** Why a fetch was made (a metrics label). */
export type JwksFetchCause = 'start' | 'expiry' | 'unknown-kid' | 'signal' | 'retry';

export interface JwksUrlOptions {
  /** JWT_JWKS_URL (https, or http to loopback: checked by the config). */
  url: string;
  logger: Logger;
  /** Called with each new key set (not with an unchanged one). */
  onChange: (jwks: JwksDocument) => void;
  /** Called after each fetch: a new set in use, the same set again, or a failure (the last good set kept). */
  onFetched?: (result: 'applied' | 'unchanged' | 'failed', cause: JwksFetchCause) => void;
  /** The HTTP client. Default: the global fetch. */
  fetch?: typeof fetch;
  /** Timers for the cache expiry, the rate limit and the timeout. Default: the system clock. */
  clock?: Clock;
  /** Fetches on an unknown `kid` are at least this far apart, ms. Default 5000. */
  minRefetchMs?: number;
  /** A fetch is abandoned after this long, ms. Default 10000. */
  timeoutMs?: number;
}

/** How long a fetched set is kept: `Cache-Control: max-age`, held within these bounds, ms. */
export const JWKS_MIN_MAX_AGE_MS = 60_000;
export const JWKS_MAX_MAX_AGE_MS = 24 * 3600_000;
/** Kept this long when the provider sends no max-age (or no-cache / no-store), ms. */
export const JWKS_DEFAULT_MAX_AGE_MS = 300_000;
/** After a failed fetch the next one is tried this much later, ms (the last good set stays in use). */
export const JWKS_RETRY_MS = 30_000;

/** `Cache-Control` → how long to keep the set, ms, within the bounds. */
export function jwksMaxAgeMs(cacheControl: string | null): number {
  const header = cacheControl ?? '';
  const match = /(?:^|,)\s*max-age\s*=\s*"?(\d+)"?/i.exec(header);
  if (match === null || /(?:^|,)\s*(?:no-cache|no-store)\b/i.test(header)) return JWKS_DEFAULT_MAX_AGE_MS;
  return Math.min(JWKS_MAX_MAX_AGE_MS, Math.max(JWKS_MIN_MAX_AGE_MS, Number(match[1]) * 1000));
}

/**
 * The identity provider's key set, fetched at start, again when the cached
 * copy expires, when a token names a `kid` the set lacks (a key rotation:
 * at most once per `minRefetchMs`, whatever the number of connections), and
 * on SIGHUP. A failed fetch keeps the last good set. Connections never wait
 * for more than the one shared fetch in flight.
 */
export class JwksUrlSource {
  private jwks: JwksDocument | undefined;
  private inFlight: Promise<boolean> | undefined;
  private lastKidFetchAt = Number.NEGATIVE_INFINITY;
  private timer: unknown;
  private failing = false;
  private lastError = '';
  private stopped = false;
  private readonly fetch: typeof fetch;
  private readonly clock: Clock;

  constructor(private readonly options: JwksUrlOptions) {
    this.fetch = options.fetch ?? globalThis.fetch;
    this.clock = options.clock ?? systemClock;
  }

  /** The current key set (undefined before the first successful fetch). */
  get current(): JwksDocument | undefined {
    return this.jwks;
  }

  /** Does the current set hold this `kid`? */
  hasKid(kid: string): boolean {
    return this.jwks?.keys.some((key) => (key as { kid?: unknown }).kid === kid) ?? false;
  }

  /** The first fetch; throws one line naming JWT_JWKS_URL when it fails (the gateway does not start without keys). */
  async start(): Promise<void> {
    const changed = await this.refresh('start');
    if (!changed && this.jwks === undefined)
      throw new Error(`JWT_JWKS_URL: cannot fetch the key set from ${this.options.url} (${this.lastError})`);
  }

  /**
   * Fetches the set again unless a fetch is in flight (then waits for that
   * one) or, for an unknown `kid`, the last unknown-`kid` fetch started less
   * than `minRefetchMs` ago.
   * Resolves true when the set changed.
   */
  refresh(cause: JwksFetchCause): Promise<boolean> {
    if (this.stopped) return Promise.resolve(false);
    if (this.inFlight !== undefined) return this.inFlight;
    if (cause === 'unknown-kid') {
      // Only these count: a fetch at start or on expiry must not hold back a rotation's first token.
      if (this.clock.now() - this.lastKidFetchAt < (this.options.minRefetchMs ?? 5000)) return Promise.resolve(false);
      this.lastKidFetchAt = this.clock.now();
    }
    this.inFlight = this.fetchOnce(cause).finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
  }

  private async fetchOnce(cause: JwksFetchCause): Promise<boolean> {
    const abort = new AbortController();
    const timeout = this.clock.setTimeout(() => abort.abort(), this.options.timeoutMs ?? 10_000);
    let next: JwksDocument;
    let maxAgeMs: number;
    try {
      const response = await this.fetch(this.options.url, {
        signal: abort.signal,
        headers: { accept: 'application/json' },
        redirect: 'error',
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      next = parseJwks(await response.text());
      maxAgeMs = jwksMaxAgeMs(response.headers.get('cache-control'));
    } catch (error) {
      this.lastError = abort.signal.aborted ? 'timeout' : describe(error);
      this.options.onFetched?.('failed', cause);
      if (!this.failing || cause === 'start') {
        this.options.logger.error(
          { url: this.options.url, err: this.lastError, cause, docs: LOG_DOCS.rotation },
          'JWKS fetch failed; keeping the last good key set',
        );
      }
      this.failing = true;
      this.schedule(JWKS_RETRY_MS, 'retry');
      return false;
    } finally {
      this.clock.clearTimeout(timeout);
    }
    if (this.failing) this.options.logger.info({ url: this.options.url }, 'JWKS fetch works again');
    this.failing = false;
    this.schedule(maxAgeMs, 'expiry');
    if (this.jwks !== undefined && JSON.stringify(this.jwks) === JSON.stringify(next)) {
      this.options.onFetched?.('unchanged', cause);
      return false;
    }
    try {
      // The consumer builds its verifier first: a set it cannot use (a malformed key) never replaces a good one.
      this.options.onChange(next);
    } catch (error) {
      this.options.logger.error({ url: this.options.url, err: describe(error), cause }, 'JWKS unusable; keeping the last good key set');
      this.options.onFetched?.('failed', cause);
      return false;
    }
    this.jwks = next;
    this.options.onFetched?.('applied', cause);
    this.options.logger.info({ url: this.options.url, keys: next.keys.length, cause, maxAgeS: maxAgeMs / 1000 }, 'JWKS loaded');
    return true;
  }

  private schedule(ms: number, cause: JwksFetchCause): void {
    if (this.stopped) return;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = this.clock.setTimeout(() => void this.refresh(cause), ms);
    (this.timer as { unref?: () => void }).unref?.();
  }
}

function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string } }).cause?.code;
  return cause ?? (error as Error).message ?? String(error);
}
