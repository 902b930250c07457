/**
 * Where a log line's reader finds the long story: each warning that needs
 * more than one short sentence carries `docs: LOG_DOCS.x` instead of an essay.
 * Every anchor exists in docs/ (gateway/test/log-docs.test.ts checks).
 */
export const LOG_DOCS = {
  /** Broadcasts go through ws.send (the flag, or ws internals changed). */
  broadcastFastPath: 'docs/OPERATIONS.md#broadcast-fast-path',
  /** Redis unreachable at start or in an outage: what clients and probes see. */
  redisFaults: 'docs/OPERATIONS.md#redis-faults',
  /** A lost pub/sub message, healed from what Redis stored. */
  noSilentGaps: 'docs/OPERATIONS.md#no-silent-gaps',
  /** The visit events' chain, replays and events_reset. */
  visitEvents: 'docs/PROTOCOL.md#visit-events',
  /** The fleet registry and rebalancing. */
  fleetDynamics: 'docs/OPERATIONS.md#fleet-dynamics-scale-out-kills-drains-storms',
  /** Token and key rotation: the files, SIGHUP, JWT_JWKS_URL. */
  rotation: 'docs/OPERATIONS.md#rotation',
  /** Wrong tokens per address (FAILED_AUTH_PER_IP) and NAT. */
  failedTokens: 'docs/OPERATIONS.md#limits-against-guessing-and-floods',
  /** The demo token, short tokens. */
  startUpChecks: 'docs/OPERATIONS.md#start-up-checks',
} as const;
