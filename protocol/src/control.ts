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
