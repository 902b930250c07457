export { createGateway, type Gateway, type GatewayOptions } from './gateway';
export { RedisSnapshotFeed, type RedisSnapshotFeedOptions } from './redis-feed';
export { createRedisClients } from './redis-clients';
export { CloseCode } from '@matomo-live/shared';
export { SnapshotHub } from './snapshot-hub';
export { GatewayMetrics } from './gateway-metrics';
export { systemClock, type IntervalClock as Clock } from '@matomo-live/shared';
