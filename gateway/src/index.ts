export { createGateway, type Gateway, type GatewayOptions } from './gateway';
export { RedisSnapshotFeed, type RedisSnapshotFeedOptions } from './redis-feed';
export { createRedisClients } from './redis-clients';
export { CloseCode, closeReasons } from '@matomo-live/shared';
export { TokenAuth, grantAllows, type AuthResult, type TokenGrant } from './token-auth';
export { SnapshotHub, type OutgoingMessage, type HubSubscriber } from './snapshot-hub';
export { GatewayMetrics } from './gateway-metrics';
export { PROTOCOL_NAME, SELECTABLE_FIELDS } from './connect-request';
export { systemClock, type IntervalClock as Clock } from '@matomo-live/shared';
