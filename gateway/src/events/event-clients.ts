import { CloseCode, type EventsRequest } from '@matomo-live/protocol';
import type { EventSource, GatewayConfig, Logger } from '@matomo-live/shared';
import type { ClientSession } from '../sessions/client-session';
import { EventHub } from './event-hub';
import { EventLane } from './event-lane';
import { EventMetrics } from '../metrics/event-metrics';
import type { GatewayMetrics } from '../metrics/gateway-metrics';
import type { BroadcastWriter } from '../sessions/broadcast-writer';

export interface EventClientsOptions {
  config: GatewayConfig;
  source: EventSource;
  writer: BroadcastWriter;
  metrics: GatewayMetrics;
  logger: Logger;
}

/** The gateway's side of visit events: one EventHub, and a lane per client that asked (`?events=visits`). */
export interface EventClients {
  readonly hub: EventHub;
  readonly metrics: EventMetrics;
  /** Starts a connection's events after its snapshot. */
  accept(session: ClientSession, request: EventsRequest): void;
  close(): Promise<void>;
}

export function createEventClients({ config, source, writer, metrics, logger }: EventClientsOptions): EventClients {
  const eventMetrics = new EventMetrics(metrics.registry);
  const hub = new EventHub({
    siteIds: config.siteIds,
    source,
    logger,
    encode: writer.encode,
    metrics: eventMetrics,
    checkIntervalMs: config.seqCheckIntervalMs,
  });
  return {
    hub,
    metrics: eventMetrics,
    accept(session, request) {
      const lane = new EventLane({
        ws: session.ws,
        send: writer.senderFor(session.ws),
        limit: config.sendBufferLimitBytes,
        onSent: (bytes) => eventMetrics.count(bytes),
        onSlow: () => {
          metrics.slowClientCloses.inc();
          logger.warn(
            { ip: session.info.ip, tokenId: session.info.tokenId, site: session.info.siteId },
            'slow consumer of visit events closed',
          );
          session.close(CloseCode.SlowConsumer);
        },
        onFail: () => session.close(CloseCode.TryAgainLater),
      });
      void hub.serve(session.info.siteId, request, lane);
    },
    close: () => hub.close(),
  };
}
