/**
 * The names both ends of a connection must agree on (docs/PROTOCOL.md): the
 * subprotocols and the selectable snapshot fields.
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
