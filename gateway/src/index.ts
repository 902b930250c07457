export { createGateway, type Gateway, type GatewayOptions } from './gateway';
export { RedisSnapshotFeed, type RedisSnapshotFeedOptions } from './redis-feed';
export { createRedisClients } from './redis-clients';
export { CloseCode, CLOSE_CODE_RULES } from '@matomo-live/protocol';
export { SnapshotHub } from './snapshot-hub';
export { GatewayMetrics } from './gateway-metrics';
export { checkFastPath, type BroadcastPath, type BroadcastWriter, type FastPathCheck } from './shared-frames';
export { systemClock, type Clock, type IntervalClock } from '@matomo-live/protocol';
