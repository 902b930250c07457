/**
 * Peer (b): Socket.IO 4 with @socket.io/redis-adapter, deployed the way its
 * docs describe for several nodes: the publisher is another Socket.IO node
 * that calls `io.emit('snapshot', object)`; the adapter carries it through
 * Redis (msgpack), and this server encodes the packet once and writes it to
 * every local socket. WebSocket transport only (no long-polling), no
 * per-message deflate — the same settings as the other servers. No auth.
 *
 * CLI: `node bench/dist/peers/socketio-server.js` with PORT (default 0), REDIS_URL (required),
 * SOCKET_IO_KEY (adapter channel prefix, default "socket.io"), REDIS_PREFIX
 * (default matomo-live:: site 1's cached snapshot key is sent on connect).
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdapter } from '@socket.io/redis-adapter';
import type Redis from 'ioredis';
import { Server } from 'socket.io';
import { runPeerCli } from './cli';
import type { RunningPeer } from './ws-broadcast-server';

export interface SocketIoServerOptions {
  /** Listening port; default 0 (any free one). */
  port?: number;
  /** Adapter publish / subscribe connections (injected; closed by close()). */
  pubClient: Redis;
  subClient: Redis;
  /** Adapter key (channel prefix); default "socket.io". */
  key?: string;
  /** Cached snapshot key, sent to each new socket; default none. */
  snapshotKey?: string;
}

export async function startSocketIoServer(options: SocketIoServerOptions): Promise<RunningPeer> {
  const { pubClient, subClient } = options;
  // Connections open, for the storm benchmark's split (requests under /socket.io/ are Socket.IO's).
  const http = createServer((req, res) => {
    if (req.url === '/connections') res.end(String(io.engine.clientsCount));
  });
  const io = new Server(http, {
    transports: ['websocket'],
    perMessageDeflate: false,
    serveClient: false,
    adapter: createAdapter(pubClient, subClient, { key: options.key ?? 'socket.io' }),
  });
  const cached = options.snapshotKey ? await pubClient.get(options.snapshotKey) : null;
  const latest: unknown = cached ? JSON.parse(cached) : null;
  io.on('connection', (socket) => {
    if (latest) socket.emit('snapshot', latest);
  });
  http.listen(options.port ?? 0, '127.0.0.1');
  await once(http, 'listening');
  return {
    port: (http.address() as AddressInfo).port,
    async close() {
      // Not disconnectSockets(): a server-side disconnect tells socket.io-client not to reconnect;
      // closing the engine is a shutdown, after which clients reconnect by themselves (to another node).
      await new Promise<void>((resolve) => void io.close(() => resolve()));
      pubClient.disconnect();
      subClient.disconnect();
    },
  };
}

if (require.main === module) {
  runPeerCli('socket.io server', ({ port, names, connect }) =>
    startSocketIoServer({
      port,
      pubClient: connect(),
      subClient: connect(),
      key: process.env.SOCKET_IO_KEY ?? 'socket.io',
      snapshotKey: names.snapshotKey,
    }),
  );
}
