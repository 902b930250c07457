/**
 * Many WebSocket clients in one process, counting what they receive. Used in
 * load-generator child processes by the benchmark and in-process by the smoke
 * test. Every server under test is driven by this same code and the same `ws`
 * client settings, so differences come from the servers.
 */
import WebSocket from 'ws';
import { LatencyHistogram, type HistogramSnapshot } from './histogram';
import { monotonicMs, numberField, SENT_AT_FIELD } from './payload';

/** How the clients talk: plain WebSocket (gateway, bare ws) or Engine.IO v4 / Socket.IO v5 framing over WebSocket. */
export type ClientProtocol = 'ws' | 'socketio';

export interface SwarmOptions {
  /** ws:// URL; for 'socketio' the server's origin (the /socket.io/ path is added). */
  url: string;
  /** Number of clients. */
  count: number;
  /** Default 'ws'. */
  protocol?: ClientProtocol;
  /** Loopback source addresses to spread clients over (more ephemeral ports); default: the OS's choice. */
  localAddresses?: string[];
  /** Connection attempts in flight at once; default 100. */
  concurrency?: number;
  /** Give up on one connection after this long, ms; default 15000. */
  connectTimeoutMs?: number;
  /** Extra HTTP headers of the upgrade request (e.g. Authorization); default none. */
  headers?: Record<string, string>;
}

export interface SwarmReport {
  /** Clients open now. */
  open: number;
  /** Messages with seq ≥ the measuring start, counted once per client and seq. */
  delivered: number;
  /** Messages whose seq a client had already seen. */
  duplicates: number;
  /** Fewest / most measured messages any client received. */
  perClientMin: number;
  perClientMax: number;
  /** Monotonic ms of the first and last measured receipt (NaN if none). */
  firstReceiptAt: number;
  lastReceiptAt: number;
  latency: HistogramSnapshot;
  /** Per seq, the latency of the first client of this process to receive it, ms (the path without the load generator's own queueing). */
  firstLatencyBySeq: Record<string, number>;
  /** Close codes seen, with counts. */
  closes: Record<string, number>;
}

interface ClientState {
  socket: WebSocket;
  lastSeq: number;
  received: number;
}

const SOCKET_IO_EVENT = 0x32; // '2' after the Engine.IO '4': a Socket.IO EVENT packet

export class ClientSwarm {
  private readonly clients: ClientState[] = [];
  private readonly latency = new LatencyHistogram();
  private readonly closes: Record<string, number> = {};
  private fromSeq = Number.POSITIVE_INFINITY;
  private delivered = 0;
  private duplicates = 0;
  private firstReceiptAt = Number.NaN;
  private lastReceiptAt = Number.NaN;
  private open = 0;
  private firstLatencyBySeq = new Map<number, number>();

  /** `onReceipt` (in-process use only) hears every measured first receipt: seq and monotonic ms. */
  constructor(
    private readonly options: SwarmOptions,
    private readonly onReceipt?: (seq: number, receivedAt: number) => void,
  ) {}

  /** Opens every client (bounded concurrency); resolves with how many connected and the first few errors. */
  async connect(): Promise<{ connected: number; failed: number; errors: string[] }> {
    const { count, concurrency = 100 } = this.options;
    const errors: string[] = [];
    let next = 0;
    let failed = 0;
    const worker = async (): Promise<void> => {
      while (next < count) {
        const index = next++;
        try {
          await this.openOne(index);
        } catch (error) {
          failed++;
          if (errors.length < 5) errors.push((error as Error).message);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
    return { connected: this.open, failed, errors };
  }

  /** From now on, count messages whose seq is ≥ fromSeq (earlier ones are the connect-time snapshot). */
  startMeasuring(fromSeq: number): void {
    this.fromSeq = fromSeq;
    this.delivered = 0;
    this.duplicates = 0;
    this.firstReceiptAt = Number.NaN;
    this.lastReceiptAt = Number.NaN;
    this.latency.reset();
    this.firstLatencyBySeq.clear();
    for (const client of this.clients) client.received = 0;
  }

  report(): SwarmReport {
    let min = Number.POSITIVE_INFINITY;
    let max = 0;
    for (const client of this.clients) {
      min = Math.min(min, client.received);
      max = Math.max(max, client.received);
    }
    return {
      open: this.open,
      delivered: this.delivered,
      duplicates: this.duplicates,
      perClientMin: this.clients.length ? min : 0,
      perClientMax: max,
      firstReceiptAt: this.firstReceiptAt,
      lastReceiptAt: this.lastReceiptAt,
      latency: this.latency.toJSON(),
      firstLatencyBySeq: Object.fromEntries(this.firstLatencyBySeq),
      closes: { ...this.closes },
    };
  }

  /** Measured messages per client, in connection order (the smoke test checks each). */
  receivedPerClient(): number[] {
    return this.clients.map((c) => c.received);
  }

  async close(): Promise<void> {
    await Promise.all(
      this.clients.map((client) => {
        if (client.socket.readyState === WebSocket.CLOSED) return Promise.resolve();
        return new Promise<void>((resolve) => {
          client.socket.once('close', () => resolve());
          client.socket.close(1000);
          // A server that never answers the close handshake must not hang the benchmark.
          setTimeout(() => client.socket.terminate(), 2000).unref();
        });
      }),
    );
  }

  private openOne(index: number): Promise<void> {
    const { url, protocol = 'ws', localAddresses, connectTimeoutMs = 15_000, headers } = this.options;
    const target = protocol === 'socketio' ? socketIoUrl(url) : url;
    const localAddress = localAddresses?.length ? localAddresses[index % localAddresses.length] : undefined;
    const socket = new WebSocket(target, {
      perMessageDeflate: false,
      skipUTF8Validation: true,
      handshakeTimeout: connectTimeoutMs,
      ...(localAddress ? { localAddress } : {}),
      ...(headers ? { headers } : {}),
    });
    const client: ClientState = { socket, lastSeq: -1, received: 0 };
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const ready = (): void => {
        if (settled) return;
        settled = true;
        this.clients.push(client);
        this.open++;
        resolve();
      };
      socket.once('error', (error) => {
        if (!settled) {
          settled = true;
          reject(error);
        }
      });
      socket.on('close', (code) => {
        this.closes[code] = (this.closes[code] ?? 0) + 1;
        if (settled && this.clients.includes(client)) this.open--;
        if (!settled) {
          settled = true;
          reject(new Error(`closed with ${code} before it was ready`));
        }
      });
      if (protocol === 'ws') {
        socket.once('open', ready);
        socket.on('message', (data: Buffer) => this.onMessage(client, data));
      } else {
        socket.on('message', (data: Buffer) => this.onEngineIoPacket(client, data, ready));
      }
    });
  }

  /** Engine.IO v4: '0' open → send Socket.IO connect '40'; '2' ping → '3' pong; '40' connected; '42[...]' event. */
  private onEngineIoPacket(client: ClientState, data: Buffer, ready: () => void): void {
    switch (data[0]) {
      case 0x30: // '0' open
        client.socket.send('40');
        return;
      case 0x32: // '2' ping
        client.socket.send('3');
        return;
      case 0x34: // '4' message
        if (data[1] === 0x30) ready();
        else if (data[1] === SOCKET_IO_EVENT) this.onMessage(client, data);
        return;
      default:
    }
  }

  private onMessage(client: ClientState, data: Buffer): void {
    const seq = numberField(data, 'seq');
    if (!(seq >= this.fromSeq)) {
      client.lastSeq = Math.max(client.lastSeq, seq || -1);
      return;
    }
    if (seq <= client.lastSeq) {
      this.duplicates++;
      return;
    }
    const now = monotonicMs();
    client.lastSeq = seq;
    client.received++;
    this.delivered++;
    if (Number.isNaN(this.firstReceiptAt)) this.firstReceiptAt = now;
    this.lastReceiptAt = now;
    this.onReceipt?.(seq, now);
    const sentAt = numberField(data, SENT_AT_FIELD);
    if (Number.isNaN(sentAt)) return;
    this.latency.record(now - sentAt);
    if (!this.firstLatencyBySeq.has(seq)) this.firstLatencyBySeq.set(seq, now - sentAt);
  }
}

function socketIoUrl(origin: string): string {
  const url = new URL(origin);
  url.pathname = '/socket.io/';
  url.search = 'EIO=4&transport=websocket';
  return url.toString();
}
