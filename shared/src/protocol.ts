/**
 * The names both ends of a connection must agree on (docs/PROTOCOL.md): the
 * subprotocols, the selectable snapshot fields and the control messages.
 * Dependency-free, so a browser bundle may import it.
 */

/** The subprotocol the gateway selects whenever a client offers it. */
export const PROTOCOL_NAME = 'matomo-live.v1';

/** A token may ride as the subprotocol `token.<T>`, next to PROTOCOL_NAME; the gateway never selects it. */
export const TOKEN_PROTOCOL_PREFIX = 'token.';

/**
 * Top-level snapshot keys a connection may pick with `fields=` (`site`, `seq`
 * and `updated_at` always come), in the gateway's canonical order.
 */
export const SELECTABLE_FIELDS = ['visits_live', 'summary', 'counters', 'timezone'] as const;
export type SelectableField = (typeof SELECTABLE_FIELDS)[number];

/** Application-level liveness for clients that cannot send WebSocket pings: this text… */
export const PING_MESSAGE = '{"type":"ping"}';
/** …is answered with this one. */
export const PONG_MESSAGE = '{"type":"pong"}';
