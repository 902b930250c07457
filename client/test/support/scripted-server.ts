import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';

export interface ScriptedConnection {
  socket: WebSocket;
  url: string;
  protocols: string[];
  received: string[];
}

/**
 * A real `ws` server whose behaviour each test scripts frame by frame, for
 * what a correct gateway never does on purpose (repeat an old seq within a
 * connection, stop answering pings).
 */
export class ScriptedServer {
  readonly connections: ScriptedConnection[] = [];
  private constructor(
    private readonly server: WebSocketServer,
    readonly port: number,
  ) {}

  static async start(onConnection: (connection: ScriptedConnection, index: number) => void): Promise<ScriptedServer> {
    const server = new WebSocketServer({
      host: '127.0.0.1',
      port: 0,
      handleProtocols: (protocols) => (protocols.has('matomo-live.v1') ? 'matomo-live.v1' : false),
    });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    const scripted = new ScriptedServer(server, (server.address() as AddressInfo).port);
    server.on('connection', (socket, request) => {
      const connection: ScriptedConnection = {
        socket,
        url: request.url ?? '',
        protocols: String(request.headers['sec-websocket-protocol'] ?? '')
          .split(',')
          .map((p) => p.trim())
          .filter(Boolean),
        received: [],
      };
      socket.on('message', (data) => connection.received.push(data.toString()));
      scripted.connections.push(connection);
      onConnection(connection, scripted.connections.length - 1);
    });
    return scripted;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}/ws`;
  }

  async close(): Promise<void> {
    for (const client of this.server.clients) client.terminate();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A snapshot-shaped frame with the given seq (content is irrelevant to the client's ordering). */
export function frame(seq: number, site = 1): string {
  return JSON.stringify({
    visits_live: [],
    summary: {},
    counters: null,
    site,
    timezone: 'UTC',
    seq,
    updated_at: new Date(0).toISOString(),
  });
}
