import WebSocket, { WebSocketServer } from 'ws';
import { once } from 'node:events';
import { encodeTextFrame } from '../src/text-frame';

describe('encodeTextFrame', () => {
  it.each([5, 200, 70_000])('frames a %i-byte payload that a real ws client reads back', async (size) => {
    const payload = Buffer.from('x'.repeat(size));
    const frame = encodeTextFrame(payload);
    expect(frame.length).toBe(size + (size > 65535 ? 10 : size > 125 ? 4 : 2));
    const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await once(server, 'listening');
    server.on('connection', (ws) => (ws as unknown as { _socket: import('node:net').Socket })._socket.write(frame));
    const client = new WebSocket(`ws://127.0.0.1:${(server.address() as { port: number }).port}`);
    const [data, isBinary] = (await once(client, 'message')) as [Buffer, boolean];
    expect(isBinary).toBe(false);
    expect(data.toString()).toBe(payload.toString());
    client.terminate();
    server.close();
  });
});
