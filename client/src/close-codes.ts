import { CloseCode, closeReasons } from '@matomo-live/shared/dist/close-codes';

/** The codes a gateway sends (docs/PROTOCOL.md) and their reason texts: one definition, shared with the gateway. */
export { CloseCode, closeReasons };

/** Codes the client reports itself; no gateway sends them. */
export enum ClientCloseCode {
  /** `close()` was called. */
  Normal = 1000,
  /** The connection failed or was cut without a close frame. */
  Abnormal = 1006,
  /** No message and no pong in time: the client gave the connection up. */
  DeadConnection = 4900,
}

/** Codes after which reconnecting cannot help: the token or the site must change first. */
const AUTH_FAILURES: ReadonlySet<number> = new Set([
  CloseCode.InvalidToken,
  CloseCode.TokenExpired,
  CloseCode.SiteNotAllowed,
  CloseCode.UnknownSite,
]);

export function isAuthFailure(code: number): boolean {
  return AUTH_FAILURES.has(code);
}
