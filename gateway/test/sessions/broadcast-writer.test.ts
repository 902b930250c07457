import { once } from 'node:events';
import WebSocket, { WebSocketServer, type ServerOptions } from 'ws';
import { capturedLogger, silentLogger } from '@matomo-live/test-support/logger';
import { checkFastPath, createBroadcastWriter, type BroadcastWriter } from '../../src/sessions/broadcast-writer';

/** A real ws server and `clients` real ws clients connected to it over loopback. */
async function connect(clients: number, serverOptions: ServerOptions = {}, clientOptions: WebSocket.ClientOptions = {}) {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1', ...serverOptions });
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  const pairs: Array<{ client: WebSocket; serverSide: WebSocket; received: string[] }> = [];
  for (let i = 0; i < clients; i++) {
    const accepted = once(server, 'connection') as Promise<[WebSocket]>;
    const client = new WebSocket(`ws://127.0.0.1:${port}`, clientOptions);
    const received: string[] = [];
    client.on('message', (data, isBinary) => received.push(isBinary ? '<binary>' : data.toString()));
    const [[serverSide]] = await Promise.all([accepted, once(client, 'open')]);
    pairs.push({ client, serverSide, received });
  }
  return {
    pairs,
    async close() {
      for (const { client } of pairs) client.terminate();
      server.close();
      await once(server, 'close');
    },
  };
}

/** Sends every payload to every connection through `writer` and waits until each client has read them all. */
async function broadcast(writer: BroadcastWriter, pairs: Awaited<ReturnType<typeof connect>>['pairs'], payloads: Buffer[]): Promise<void> {
  for (const payload of payloads) {
    const message = { payload, frame: writer.encode(payload) };
    for (const { serverSide } of pairs)
      await new Promise<void>((resolve, reject) => writer.senderFor(serverSide)(message, (error) => (error ? reject(error) : resolve())));
  }
  await Promise.all(
    pairs.map(
      ({ client, received }) =>
        new Promise<void>((resolve) => {
          const check = () => (received.length >= payloads.length ? resolve() : client.once('message', () => setImmediate(check)));
          check();
        }),
    ),
  );
}

const payloads = [5, 200, 70_000].map((size, i) => Buffer.from(`{"n":${i},"pad":"${'é'.repeat(size)}"}`));

describe('the ws in the lockfile', () => {
  it('has everything the fast path uses, framing as RFC 6455 says', () => {
    expect(checkFastPath()).toEqual({ available: true, problems: [] });
  });
});

describe('the shared-frame path', () => {
  it('frames each payload once and writes that frame straight to every socket; the clients read the exact text', async () => {
    const writer = createBroadcastWriter({ logger: silentLogger });
    expect(writer.path).toBe('shared-frame');
    const frame = writer.encode(payloads[2]!);
    // FIN + text opcode, no mask, 64-bit length for a 70 kB payload, then the payload itself.
    expect([...frame.subarray(0, 2)]).toEqual([0x81, 127]);
    expect(frame.readBigUInt64BE(2)).toBe(BigInt(payloads[2]!.length));
    expect(frame.subarray(10).equals(payloads[2]!)).toBe(true);

    const { pairs, close } = await connect(2);
    try {
      await broadcast(writer, pairs, payloads);
      for (const { received } of pairs) expect(received).toEqual(payloads.map((p) => p.toString()));
      expect(writer.writes).toEqual({ sharedFrame: 6, wsSend: 0 });
    } finally {
      await close();
    }
  });

  it('uses ws.send for a connection that negotiated permessage-deflate (its frames are transformed)', async () => {
    const writer = createBroadcastWriter({ logger: silentLogger });
    const { pairs, close } = await connect(1, { perMessageDeflate: true }, { perMessageDeflate: true });
    try {
      expect(pairs[0]!.serverSide.extensions).toContain('permessage-deflate');
      await broadcast(writer, pairs, payloads);
      expect(pairs[0]!.received).toEqual(payloads.map((p) => p.toString()));
      expect(writer.writes).toEqual({ sharedFrame: 0, wsSend: 3 });
    } finally {
      await close();
    }
  });
});

describe('the ws.send path', () => {
  it('is taken for every write with BROADCAST_FAST_PATH=false, and says so at start-up', async () => {
    const log = capturedLogger('info');
    const writer = createBroadcastWriter({ enabled: false, logger: log.logger });
    expect(writer.path).toBe('ws-send');
    expect(writer.encode(payloads[0]!)).toBe(payloads[0]);
    expect(log.lines()).toEqual([expect.objectContaining({ level: 30, broadcast: 'ws-send' })]);
    const { pairs, close } = await connect(2);
    try {
      await broadcast(writer, pairs, payloads);
      for (const { received } of pairs) expect(received).toEqual(payloads.map((p) => p.toString()));
      expect(writer.writes).toEqual({ sharedFrame: 0, wsSend: 6 });
    } finally {
      await close();
    }
  });

  it('is taken when ws lacks the internals: the check names what is missing, logged once at warn', () => {
    const bare = class {} as unknown as Parameters<typeof checkFastPath>[0];
    const check = checkFastPath(bare);
    expect(check.available).toBe(false);
    expect(check.problems).toEqual([
      'WebSocket.Sender.frame is not a function',
      'WebSocket.Sender is not a class',
      'a WebSocket has no _socket / _sender fields',
    ]);
    const log = capturedLogger('info');
    const writer = createBroadcastWriter({ logger: log.logger, check });
    expect(writer.path).toBe('ws-send');
    expect(log.lines()).toEqual([expect.objectContaining({ level: 40, broadcast: 'ws-send', problems: check.problems })]);
  });
});
