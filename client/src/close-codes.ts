import { closeRule } from '@matomo-live/protocol';

/** The codes a gateway sends, their reason texts and client rules: @matomo-live/protocol's one table. */
export { CLOSE_CODE_RULES, CloseCode, closeRule, type CloseAction, type CloseRule } from '@matomo-live/protocol';

/** Codes the client reports itself; no gateway sends them. */
export enum ClientCloseCode {
  /** `close()` was called. */
  Normal = 1000,
  /** The connection failed or was cut without a close frame. */
  Abnormal = 1006,
  /** No message and no pong in time: the client gave the connection up. */
  DeadConnection = 4900,
}

/**
 * True for the codes after which reconnecting cannot help (the table's
 * `stop` rule: the token or the site must change first). Unknown codes are
 * not: they reconnect with backoff (see closeRule).
 */
export function isAuthFailure(code: number): boolean {
  return closeRule(code).action === 'stop';
}
