import { once } from 'node:events';
import { CloseCode } from '@matomo-live/protocol';
import { InMemoryEventStreams, type EventsWrite } from '@matomo-live/shared';
import { gatewayConfigFrom } from '@matomo-live/test-support/gateway';
import { silentLogger } from '@matomo-live/test-support/logger';
import { waitFor } from '@matomo-live/test-support/wait-for';
import { TokenBucket } from '../../src/admission/rate-limits';
import { createEventClients, type EventClients } from '../../src/events/event-clients';
import { GatewayMetrics } from '../../src/metrics/gateway-metrics';
import { createBroadcastWriter } from '../../src/sessions/broadcast-writer';
import { ClientSession } from '../../src/sessions/client-session';
import { TOKEN } from '../support/harness';
import { wsPair, type WsPair } from '../support/ws-pair';

let version = 0;
function visits(ids: number[], pad = 0): EventsWrite {
  return {
    entries: ids.map((id) => ({ kind: 'visit', data: `{"idVisit":${id},"pad":"${'x'.repeat(pad)}"}` })),
    cursor: { expectedVersion: version++, after: 0, offset: 0, set: [], forget: [] },
    retentionMs: 3_600_000,
    maxLen: 10_000,
  };
}

describe('createEventClients (a lane per client that asked for visit events)', () => {
  const writer = createBroadcastWriter({ logger: silentLogger });
  let pair: WsPair;
  let streams: InMemoryEventStreams;
  let metrics: GatewayMetrics;
  let eventClients: EventClients;

  async function start(env: Record<string, string> = {}): Promise<ClientSession> {
    const config = gatewayConfigFrom({ VALID_TOKENS: TOKEN, MATOMO_SITE_ID: '1', ...env });
    eventClients = createEventClients({ config, source: streams, writer, metrics, logger: silentLogger });
    return new ClientSession(
      pair.serverSide,
      { ip: '127.0.0.1', tokenKey: 'k', tokenId: 'id', siteId: 1 },
      {
        sendBufferLimit: config.sendBufferLimitBytes,
        metrics,
        writer,
        messageBucket: new TokenBucket(10, 10),
        now: Date.now,
        onClosed: () => undefined,
        onSlow: () => undefined,
      },
    );
  }

  beforeEach(async () => {
    version = 0;
    pair = await wsPair();
    streams = new InMemoryEventStreams();
    metrics = new GatewayMetrics();
  });

  afterEach(async () => {
    await eventClients.close();
    await pair.close();
  });

  it('replays the latest events a client asked for, then hands it live ones, counting both', async () => {
    streams.append(1, visits([1, 2, 3]));
    const session = await start();
    eventClients.accept(session, { stream: 'visits', rewind: 2 });
    const visitIds = () =>
      pair.received
        .map((t) => JSON.parse(t) as { type: string; visit?: { idVisit: number } })
        .flatMap((m) => (m.type === 'visit' ? [m.visit!.idVisit] : []));
    await waitFor(() => visitIds().length === 2, 'the replayed events');
    streams.append(1, visits([4]));
    await waitFor(() => visitIds().length === 3, 'the live event');
    expect(visitIds()).toEqual([2, 3, 4]);
    const sent = await metrics.registry.getSingleMetric('matomo_live_gateway_events_sent_total')!.get();
    expect(sent.values[0]!.value).toBeGreaterThanOrEqual(3);
  });

  it('closes a client that falls too far behind with 4005 and counts it', async () => {
    streams.append(1, visits([1, 2, 3, 4, 5, 6, 7, 8], 400));
    const session = await start({ SEND_BUFFER_LIMIT: '1024' });
    const closed = once(pair.client, 'close') as Promise<[number, Buffer]>;
    eventClients.accept(session, { stream: 'visits', rewind: 8 });
    const [code] = await closed;
    expect(code).toBe(CloseCode.SlowConsumer);
    expect((await metrics.slowClientCloses.get()).values[0]!.value).toBe(1);
  });
});
