export {
  createPoller,
  type Poller,
  type PollerOptions,
  type PollerStatus,
  type PollerTiming,
  type SiteStatus,
  type TickFailureKind,
} from './poller';
export { RedisSnapshotPublisher } from './redis-publisher';
export { RedisLeaseManager, type LeaseManager } from './redis-lease';
export { createRedisPoller, type RedisPoller, type RedisPollerOptions } from './redis-wiring';
export { PollerMetrics, type PollerMetricsOptions } from './poller-metrics';
export { startHealthServer, type HealthServer, type HealthServerOptions } from './health-server';
export { startPollerProcess, type PollerProcess } from './poller-process';
export { systemClock, type Clock } from '@matomo-live/protocol';
export { MatomoRequestError, type MatomoFailureKind } from './matomo-client';
export { hhmmss, readCounters, readSiteTimezone, readSummary, readVisits, AnswerShapeError } from './matomo-answers';
