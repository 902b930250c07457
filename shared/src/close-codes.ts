/**
 * Every close code the gateway sends (docs/PROTOCOL.md), with the reason text
 * that goes with it. Clients act on the code: 1001/1013/4005 → reconnect with
 * backoff; 4001–4004 → stop. Dependency-free, so a browser bundle may import it.
 */
export enum CloseCode {
  /** Drain or shutdown: reconnect (to another replica). */
  GoingAway = 1001,
  /** Malformed frame or message flood. */
  PolicyViolation = 1008,
  /** A client frame above MAX_PAYLOAD. */
  MessageTooBig = 1009,
  /** Capacity or rate limit reached: try again later. */
  TryAgainLater = 1013,
  /** Missing or wrong token (the reference's code): do not retry. */
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

/** Reason texts (≤ 123 bytes, as the close frame allows). */
export const closeReasons: Record<CloseCode, string> = {
  [CloseCode.GoingAway]: 'Server going away',
  [CloseCode.PolicyViolation]: 'Policy violation',
  [CloseCode.MessageTooBig]: 'Message too big',
  [CloseCode.TryAgainLater]: 'Try again later',
  [CloseCode.InvalidToken]: 'Invalid token',
  [CloseCode.TokenExpired]: 'Token expired',
  [CloseCode.SiteNotAllowed]: 'Site not allowed for this token',
  [CloseCode.UnknownSite]: 'Unknown site',
  [CloseCode.SlowConsumer]: 'Slow consumer',
};
