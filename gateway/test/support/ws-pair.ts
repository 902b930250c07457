import { once } from 'node:events';
import WebSocket, { WebSocketServer } from 'ws';

export interface WsPair {
  /** The client end, as a browser or the client library would hold it. */
  client: WebSocket;
  /** The gateway's end of the same connection. */
  serverSide: WebSocket;
  /** Text messages the client received, in order. */
  received: string[];
  close(): Promise<void>;
}

/** One real WebSocket connection over loopback. */
export async function wsPair(): Promise<WsPair> {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  const accepted = once(server, 'connection') as Promise<[WebSocket]>;
  const client = new WebSocket(`ws://127.0.0.1:${port}`);
  const received: string[] = [];
  client.on('message', (data) => received.push(data.toString()));
  const [[serverSide]] = await Promise.all([accepted, once(client, 'open')]);
  return {
    client,
    serverSide,
    received,
    async close() {
      client.terminate();
      serverSide.terminate();
      server.close();
      await once(server, 'close');
    },
  };
}
