/**
 * Peer (a): the bare `ws` broadcast server, the ceiling for any ws-based
 * server. It does what the ws README's broadcast example does — for every
 * message on the Redis channel, `client.send(bytes)` to every open client —
 * plus sending the cached snapshot on connect, as the gateway does. No tokens,
 * no limits, no heartbeat, no slow-consumer handling.
 *
 * CLI: `node bench/dist/peers/ws-broadcast-server.js` with PORT (default 0: any),
 * REDIS_URL (required), REDIS_PREFIX (default matomo-live:): site 1's snapshot channel and cached key.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type Redis from 'ioredis';
import type { RedisNames } from '@matomo-live/shared';
import WebSocket, { WebSocketServer } from 'ws';
import { runPeerCli } from './cli';

export interface WsBroadcastServerOptions {
  /** Listening port; default 0 (any free one). */
  port?: number;
  /** Subscriber connection (injected; closed by close()). */
  subscriber: Redis;
  /** Reads the cached snapshot at start (injected; closed by close()). */
  reader: Redis;
  /** The snapshot channel to subscribe to and the cached key read at start. */
  names: Pick<RedisNames, 'snapshotKey' | 'snapshotChannel'>;
}

export interface RunningPeer {
  port: number;
  close(): Promise<void>;
}

export async function startWsBroadcastServer(options: WsBroadcastServerOptions): Promise<RunningPeer> {
  const { subscriber, reader, names } = options;
  const server = new WebSocketServer({ port: options.port ?? 0, host: '127.0.0.1', perMessageDeflate: false });
  await once(server, 'listening');
  let latest: Buffer | null = null;
  subscriber.on('messageBuffer', (_channel: Buffer, bytes: Buffer) => {
    latest = bytes;
    for (const client of server.clients) if (client.readyState === WebSocket.OPEN) client.send(bytes, { binary: false });
  });
  await subscriber.subscribe(names.snapshotChannel);
  latest = (await reader.getBuffer(names.snapshotKey)) ?? latest;
  server.on('connection', (socket) => {
    socket.on('error', () => socket.terminate());
    if (latest) socket.send(latest, { binary: false });
  });
  return {
    port: (server.address() as AddressInfo).port,
    async close() {
      for (const client of server.clients) client.terminate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      subscriber.disconnect();
      reader.disconnect();
    },
  };
}

if (require.main === module) {
  runPeerCli('ws broadcast server', ({ port, names, connect }) =>
    startWsBroadcastServer({ port, subscriber: connect(), reader: connect(), names }),
  );
}
