/**
 * Every close code a gateway sends, with its reason text and what a client
 * does about it, in one table (docs/PROTOCOL.md renders the same rules). The
 * gateway takes its reason texts from here and the client its decision to
 * reconnect or stop, so adding a code is one entry in one place.
 */
export enum CloseCode {
  /** Drain, shutdown or rebalance: reconnect (to another replica), when the reason's hint says if it has one. */
  GoingAway = 1001,
  /** Malformed frame, binary frame, unknown `fields=` name, or a message flood. */
  PolicyViolation = 1008,
  /** A client frame above MAX_PAYLOAD. */
  MessageTooBig = 1009,
  /** Capacity or rate limit reached: try again later (when the reason's hint says, if it has one). */
  TryAgainLater = 1013,
  /** Missing or wrong token (the reference's code). */
  InvalidToken = 4001,
  /** Signed token past its `exp`. */
  TokenExpired = 4002,
  /** The token may not see the requested site. */
  SiteNotAllowed = 4003,
  /** The requested site is not served here. */
  UnknownSite = 4004,
  /** The client fell more than SEND_BUFFER_LIMIT behind. */
  SlowConsumer = 4005,
}

/**
 * What a client does after a close:
 * - `reconnect`: try again after a full-jitter backoff delay (the cause is
 *   transient, or another replica will take the connection);
 * - `stop`: do not retry; reconnecting cannot help until the token or the
 *   site changes (the client reports it as an auth failure).
 */
export type CloseAction = 'reconnect' | 'stop';

export interface CloseRule {
  /** Reason text of the close frame (≤ 123 bytes, as the frame allows). */
  reason: string;
  /** What a client does after it. */
  action: CloseAction;
  /**
   * The gateway may send a reconnect hint (reconnect-hint.ts) as the reason
   * instead of the text: when to come back, never whether.
   */
  mayCarryHint: boolean;
}

/** The table: reason text and client rule of every code the gateway sends. */
export const CLOSE_CODE_RULES: Readonly<Record<CloseCode, CloseRule>> = {
  [CloseCode.GoingAway]: { reason: 'Server going away', action: 'reconnect', mayCarryHint: true },
  [CloseCode.PolicyViolation]: { reason: 'Policy violation', action: 'reconnect', mayCarryHint: false },
  [CloseCode.MessageTooBig]: { reason: 'Message too big', action: 'reconnect', mayCarryHint: false },
  [CloseCode.TryAgainLater]: { reason: 'Try again later', action: 'reconnect', mayCarryHint: true },
  [CloseCode.InvalidToken]: { reason: 'Invalid token', action: 'stop', mayCarryHint: false },
  [CloseCode.TokenExpired]: { reason: 'Token expired', action: 'stop', mayCarryHint: false },
  [CloseCode.SiteNotAllowed]: { reason: 'Site not allowed for this token', action: 'stop', mayCarryHint: false },
  [CloseCode.UnknownSite]: { reason: 'Unknown site', action: 'stop', mayCarryHint: false },
  [CloseCode.SlowConsumer]: { reason: 'Slow consumer', action: 'reconnect', mayCarryHint: false },
};

/**
 * The rule of any code a client sees, including codes this version does not
 * know (a newer server's, a proxy's 1011/1012/1014, 1006 for a cut
 * connection): those reconnect with backoff. A screen on a wall must not go
 * dark for good because of a code added later; a newer server that needs old
 * clients to stop must keep using a `stop` code of this table (or a new
 * subprotocol version). `known` tells the two cases apart.
 */
export function closeRule(code: number): CloseRule & { known: boolean } {
  const rule = (CLOSE_CODE_RULES as Partial<Record<number, CloseRule>>)[code];
  return rule === undefined ? { reason: '', action: 'reconnect', mayCarryHint: false, known: false } : { ...rule, known: true };
}
