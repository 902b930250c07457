import { statSync, watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import { decodeProtectedHeader } from 'jose';
import { systemClock, type IntervalClock } from '@matomo-live/protocol';
import { ConfigError, reloadTokenSettings, type Logger, type TokenFiles, type TokenSettings } from '@matomo-live/shared';
import { LOG_DOCS } from '../log-docs';
import { JwksUrlSource, type JwksDocument } from './jwks-url';
import { TokenAuth, type AuthResult } from './token-auth';
import type { TokenMetrics } from '../metrics/token-metrics';

/** What admission needs of the token checks. */
export interface TokenVerifier {
  verify(token: string | undefined): Promise<AuthResult>;
}

/** What made the gateway read its token files. */
export type TokenReloadTrigger = 'watch' | 'poll' | 'signal';

export interface TokenSourcesOptions {
  /** The token settings the gateway started with. */
  settings: TokenSettings;
  /** Files to re-read (`VALID_TOKENS_FILE`, …). Default {} (nothing to watch). */
  files?: TokenFiles;
  logger: Logger;
  /** Reload counters; default none. */
  metrics?: TokenMetrics;
  /** Timers of the polling, the debounce and the JWKS cache; `now` for `exp` checks. Default: the system clock. */
  clock?: IntervalClock;
  /** HTTP client of JWT_JWKS_URL. Default: the global fetch. */
  fetch?: typeof fetch;
  /** How often the files are looked at (a stat each), ms. Default 2000; 0 = no polling. */
  pollMs?: number;
  /** Watch the files' directories for an early look. Default true. */
  watch?: boolean;
}

/** Events of a burst (an editor's write, Kubernetes' symlink swap) are folded into one read this much later, ms. */
const WATCH_DEBOUNCE_MS = 50;

/**
 * The gateway's token checks, kept current: a TokenAuth built from the token
 * files and JWT_JWKS_URL, swapped whole when either changes, so a verification
 * always sees one consistent set. The files are re-read when a watch on their
 * directory fires (Kubernetes replaces a Secret by swapping the `..data`
 * symlink; fs.watch may miss that, hence a stat every `pollMs` too) and on
 * `reload('signal')` (SIGHUP). A file that cannot be read, is empty or holds
 * a bad value keeps the last good set, with one error line per distinct
 * failure (naming the variable, never its text).
 */
export class TokenSources implements TokenVerifier {
  private auth: TokenAuth;
  private settings: TokenSettings;
  private readonly files: TokenFiles;
  private readonly clock: IntervalClock;
  private readonly jwksUrl: JwksUrlSource | undefined;
  private readonly listeners: Array<(auth: TokenAuth) => void> = [];
  private readonly watchers: FSWatcher[] = [];
  private signature: string;
  private lastError: string | undefined;
  private poll: unknown;
  private debounce: unknown;
  private stopped = false;

  constructor(private readonly options: TokenSourcesOptions) {
    // Only the token fields: settings are compared whole to tell a change from a re-read.
    this.settings = { validTokens: options.settings.validTokens, jwt: options.settings.jwt };
    this.files = options.files ?? {};
    this.clock = options.clock ?? systemClock;
    this.auth = this.build(this.settings);
    this.signature = this.stat();
    const url = options.settings.jwt?.jwksUrl;
    this.jwksUrl =
      url === undefined
        ? undefined
        : new JwksUrlSource({
            url,
            logger: options.logger,
            fetch: options.fetch,
            clock: this.clock,
            onChange: (jwks) => this.applyJwks(jwks),
            onFetched: (result) => this.options.metrics?.record('jwks_url', result, this.clock.now()),
          });
  }

  /** The TokenAuth in use now. */
  get current(): TokenAuth {
    return this.auth;
  }

  /** Called with each new TokenAuth (the gateway re-checks its open connections). */
  onChange(listener: (auth: TokenAuth) => void): void {
    this.listeners.push(listener);
  }

  /** Fetches JWT_JWKS_URL (throws one line when it cannot), then watches and polls the files. */
  async start(): Promise<void> {
    await this.jwksUrl?.start();
    const pollMs = this.options.pollMs ?? 2000;
    const paths = Object.values(this.files);
    if (paths.length === 0) return;
    if (this.options.watch ?? true) {
      for (const dir of new Set(paths.map((p) => dirname(p)))) {
        try {
          const watcher = watch(dir, { persistent: false }, () => this.soon());
          watcher.on('error', () => watcher.close());
          this.watchers.push(watcher);
        } catch {
          // A directory that cannot be watched is still polled.
        }
      }
    }
    if (pollMs > 0) this.poll = this.clock.setInterval(() => this.check('poll'), pollMs);
  }

  async verify(token: string | undefined): Promise<AuthResult> {
    const result = await this.auth.verify(token);
    if (result.ok || result.reason !== 'invalid' || this.jwksUrl === undefined || token === undefined) return result;
    // A kid the cached set lacks: the provider may have rotated its keys. One shared, rate-limited fetch.
    const kid = kidOf(token);
    if (kid === undefined || this.jwksUrl.hasKid(kid)) return result;
    const changed = await this.jwksUrl.refresh('unknown-kid');
    return changed ? this.auth.verify(token) : result;
  }

  /** Reads the files now (SIGHUP also fetches JWT_JWKS_URL again). */
  async reload(trigger: TokenReloadTrigger): Promise<void> {
    this.check(trigger);
    if (trigger === 'signal') await this.jwksUrl?.refresh('signal');
  }

  stop(): void {
    this.stopped = true;
    for (const watcher of this.watchers) watcher.close();
    if (this.poll !== undefined) this.clock.clearInterval(this.poll);
    if (this.debounce !== undefined) this.clock.clearTimeout(this.debounce);
    this.jwksUrl?.stop();
  }

  private soon(): void {
    if (this.stopped || this.debounce !== undefined) return;
    this.debounce = this.clock.setTimeout(() => {
      this.debounce = undefined;
      this.check('watch');
    }, WATCH_DEBOUNCE_MS);
  }

  /** Reads the files when they changed (or always, on a signal) and swaps the TokenAuth when the settings did. */
  private check(trigger: TokenReloadTrigger): void {
    if (this.stopped || Object.keys(this.files).length === 0) return;
    const signature = this.stat();
    if (trigger !== 'signal' && signature === this.signature) return;
    this.signature = signature;
    let next: TokenSettings;
    let auth: TokenAuth;
    try {
      next = reloadTokenSettings(this.files, this.settings);
      auth = this.build(next);
    } catch (error) {
      this.fail(error, trigger);
      return;
    }
    if (this.lastError !== undefined) this.options.logger.info({ trigger }, 'token files readable again');
    this.lastError = undefined;
    if (JSON.stringify(next) === JSON.stringify(this.settings)) {
      this.options.metrics?.record('files', 'unchanged', this.clock.now());
      return;
    }
    this.settings = next;
    this.options.metrics?.record('files', 'applied', this.clock.now());
    this.options.logger.info({ trigger, staticTokens: next.validTokens.length, files: Object.keys(this.files) }, 'token files reloaded');
    this.swap(auth);
  }

  private fail(error: unknown, trigger: TokenReloadTrigger): void {
    this.options.metrics?.record('files', 'failed', this.clock.now());
    const message = error instanceof ConfigError ? error.lines.join('; ') : (error as Error).message;
    if (message === this.lastError) return;
    this.lastError = message;
    this.options.logger.error({ trigger, err: message, docs: LOG_DOCS.rotation }, 'token files not reloaded; keeping the last good set');
  }

  private applyJwks(jwks: JwksDocument): void {
    const next: TokenSettings = { ...this.settings, jwt: this.settings.jwt && { ...this.settings.jwt, jwks } };
    const auth = this.build(next); // throws on an unusable set: JwksUrlSource keeps the old one
    this.settings = next;
    this.swap(auth);
  }

  private swap(auth: TokenAuth): void {
    this.auth = auth;
    for (const listener of this.listeners) listener(auth);
  }

  private build(settings: TokenSettings): TokenAuth {
    return new TokenAuth({ validTokens: settings.validTokens, jwt: settings.jwt, now: () => this.clock.now() });
  }

  /** inode, size and times of each file (following symlinks): a swap or a rewrite changes them. */
  private stat(): string {
    return Object.values(this.files)
      .map((path) => {
        try {
          const s = statSync(path, { bigint: true });
          return `${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
        } catch (error) {
          return (error as NodeJS.ErrnoException).code ?? 'error';
        }
      })
      .join('|');
  }
}

function kidOf(token: string): string | undefined {
  try {
    const { kid } = decodeProtectedHeader(token);
    return typeof kid === 'string' ? kid : undefined;
  } catch {
    return undefined;
  }
}
