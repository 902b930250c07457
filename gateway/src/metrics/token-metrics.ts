import { Counter, Gauge, type Registry } from 'prom-client';

/** Where token settings come from: the mounted files (`*_FILE`) or JWT_JWKS_URL. */
export type TokenSourceKind = 'files' | 'jwks_url';
/** What a reload did: a new set in use, the same set read again, or a failure (the last good set kept). */
export type TokenReloadResult = 'applied' | 'unchanged' | 'failed';

const SOURCES: TokenSourceKind[] = ['files', 'jwks_url'];
const RESULTS: TokenReloadResult[] = ['applied', 'unchanged', 'failed'];

/** Metrics of token rotation, on the gateway's registry. */
export class TokenMetrics {
  readonly reloads: Counter<'source' | 'result'>;
  readonly lastReload: Gauge<'source'>;
  readonly revoked: Counter;

  constructor(registry: Registry) {
    this.reloads = new Counter({
      name: 'matomo_live_gateway_token_reloads_total',
      help: 'Reads of the token files (on change or SIGHUP) and fetches of JWT_JWKS_URL, by source and result (failed: the last good set is kept)',
      labelNames: ['source', 'result'],
      registers: [registry],
    });
    this.lastReload = new Gauge({
      name: 'matomo_live_gateway_token_last_reload_timestamp_seconds',
      help: 'Unix time of the last successful read of the token files or fetch of JWT_JWKS_URL (0: none yet)',
      labelNames: ['source'],
      registers: [registry],
    });
    this.revoked = new Counter({
      name: 'matomo_live_gateway_token_revoked_closes_total',
      help: 'Open connections closed because a reload no longer accepts their token (4001/4002) or site (4003)',
      registers: [registry],
    });
    // Zero for every known label value: a panel shows 0, not "No data", before the first reload.
    for (const source of SOURCES) {
      this.lastReload.set({ source }, 0);
      for (const result of RESULTS) this.reloads.inc({ source, result }, 0);
    }
  }

  /** Counts a reload; a success also moves the timestamp. */
  record(source: TokenSourceKind, result: TokenReloadResult, nowMs: number): void {
    this.reloads.inc({ source, result });
    if (result !== 'failed') this.lastReload.set({ source }, Math.floor(nowMs / 1000));
  }
}
