/**
 * @matomo-live/protocol: what travels between a gateway and its clients, with
 * no dependency and no host API beyond what browsers and Node share, so the
 * browser bundle, the Node client and the servers import the same definitions.
 */
export * from './snapshot';
export * from './control';
export * from './events';
export * from './status';
export * from './close-codes';
export * from './subprotocol';
export * from './backoff';
export * from './reconnect-hint';
export * from './clock';
export * from './fixed-offset';
