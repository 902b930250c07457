/**
 * Control messages: JSON objects with a `type`, next to the snapshots (which
 * have none). Clients ignore types they do not know, so new ones are additions.
 */

/** Application-level liveness for clients that cannot send WebSocket pings (browsers). */
export interface PingMessage {
  type: 'ping';
}

/** The gateway's answer to a PingMessage. */
export interface PongMessage {
  type: 'pong';
}

/** A client sends this text… */
export const PING_MESSAGE = '{"type":"ping"}';
/** …and the gateway answers with this one. */
export const PONG_MESSAGE = '{"type":"pong"}';

/**
 * A fresh token for the open connection (a signed token's session ends at its
 * `exp` with 4002 unless one arrives before). The gateway answers nothing when
 * it is good; a token it refuses closes the connection: 4001 invalid, 4002
 * expired, 4003 for more sites than the connection's token had.
 */
export interface AuthMessage {
  type: 'auth';
  token: string;
}

/** The text of an AuthMessage. */
export function authMessage(token: string): string {
  return JSON.stringify({ type: 'auth', token } satisfies AuthMessage);
}
