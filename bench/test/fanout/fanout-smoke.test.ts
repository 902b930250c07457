/**
 * CI-sized fan-out: a few hundred real WebSocket clients on each server of the
 * benchmark (this gateway, the bare ws peer, the Socket.IO peer), snapshots
 * published through a real Redis at 20/s for about a second. Every client must
 * receive every message exactly once, with its send timestamp intact. No
 * timing assertions: speed is the full benchmark's job (npm run bench).
 */
import Redis from 'ioredis';
import { loadGatewayConfig, redisNames } from '@matomo-live/shared';
import { startGateway } from '@matomo-live/test-support/gateway';
import { redisScope, type RedisScope } from '@matomo-live/test-support/redis';
import { waitFor } from '@matomo-live/test-support/wait-for';
import { ClientSwarm, type ClientProtocol } from '../../src/common/load-generator';
import { monotonicMs, PayloadFactory } from '../../src/common/payload';
import { startSocketIoServer } from '../../src/peers/socketio-server';
import { startWsBroadcastServer } from '../../src/peers/ws-broadcast-server';
import { publishAtRate, RedisLoadPublisher, SocketIoLoadPublisher, type LoadPublisher } from '../../src/common/publisher';

const CLIENTS = 300;
const MESSAGES = 20;
const RATE = 20;
const TOKEN = 'smoke-token-0123456789';

jest.setTimeout(90_000);

// A swarm's report() walks every client: check it every 50 ms, not every 20.
const EVERY_MS = 50;

interface ServerUnderTest {
  url: string;
  protocol: ClientProtocol;
  publisher: LoadPublisher;
  close(): Promise<void>;
}

type Starter = (redisUrl: string, prefix: string, payloads: PayloadFactory) => Promise<ServerUnderTest>;

const startGatewayInProcess: Starter = async (redisUrl, prefix, payloads) => {
  const config = loadGatewayConfig(
    {
      PORT: '0',
      HOST: '127.0.0.1',
      REDIS_URL: redisUrl,
      REDIS_PREFIX: prefix,
      VALID_TOKENS: TOKEN,
      DASHBOARD_DIR: 'off',
      LOG_LEVEL: 'silent',
    },
    { dotenv: false },
  );
  const running = await startGateway(config);
  await waitFor(() => running.gateway.isReady(), 'the gateway to subscribe', 20_000, { everyMs: EVERY_MS });
  return {
    url: `${running.url}?token=${TOKEN}`,
    protocol: 'ws',
    publisher: new RedisLoadPublisher(new Redis(redisUrl), redisNames(prefix, 1), payloads),
    close: () => running.stop(),
  };
};

const startWsPeer: Starter = async (redisUrl, prefix, payloads) => {
  const names = redisNames(prefix, 1);
  const peer = await startWsBroadcastServer({ subscriber: new Redis(redisUrl), reader: new Redis(redisUrl), names });
  return {
    url: `ws://127.0.0.1:${peer.port}/`,
    protocol: 'ws',
    publisher: new RedisLoadPublisher(new Redis(redisUrl), names, payloads),
    close: () => peer.close(),
  };
};

const startSocketIoPeer: Starter = async (redisUrl, prefix, payloads) => {
  const key = `${prefix}socket.io`;
  const peer = await startSocketIoServer({ pubClient: new Redis(redisUrl), subClient: new Redis(redisUrl), key });
  const publisher = new SocketIoLoadPublisher(new Redis(redisUrl), new Redis(redisUrl), payloads, key);
  return { url: `ws://127.0.0.1:${peer.port}/`, protocol: 'socketio', publisher, close: () => peer.close() };
};

describe.each([
  ['the matomo-live gateway', startGatewayInProcess],
  ['the bare ws broadcast peer', startWsPeer],
  ['the Socket.IO + redis-adapter peer', startSocketIoPeer],
] as const)('fan-out smoke: %s', (_name, start) => {
  let server: ServerUnderTest | undefined;
  let swarm: ClientSwarm | undefined;
  let redis: RedisScope | undefined;

  afterEach(async () => {
    await swarm?.close();
    await server?.publisher.close();
    await server?.close();
    await redis?.close();
  });

  it(`delivers each of ${MESSAGES} snapshots to each of ${CLIENTS} clients exactly once`, async () => {
    redis = await redisScope('bench-smoke');
    const payloads = new PayloadFactory(2048);
    server = await start(redis.url, redis.prefix, payloads);
    swarm = new ClientSwarm({ url: server.url, count: CLIENTS, protocol: server.protocol });
    const connected = await swarm.connect();
    expect(connected).toEqual({ connected: CLIENTS, failed: 0, errors: [] });

    const firstSeq = Date.now() * 10;
    swarm.startMeasuring(firstSeq);
    await publishAtRate(server.publisher, RATE, MESSAGES, firstSeq);
    await waitFor(() => swarm!.report().delivered >= CLIENTS * MESSAGES, 'every client to receive every message', 30_000, {
      everyMs: EVERY_MS,
    });

    const report = swarm.report();
    expect(swarm.receivedPerClient()).toEqual(new Array(CLIENTS).fill(MESSAGES));
    expect(report.delivered).toBe(CLIENTS * MESSAGES);
    expect(report.duplicates).toBe(0);
    expect(report.open).toBe(CLIENTS);
    // The publisher's send time reached every client: each delivery has a latency sample.
    expect(report.latency.count).toBe(CLIENTS * MESSAGES);
    expect(report.latency.max).toBeGreaterThan(0);
    expect(report.latency.max).toBeLessThan(monotonicMs());
  });
});
