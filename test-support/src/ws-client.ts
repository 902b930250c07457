/** A real `ws` client that records what a gateway sends it, for assertions. */
import WebSocket from 'ws';
import { waitFor } from './wait-for';

/** A real client recording messages and its close. */
export class TestClient {
  readonly messages: string[] = [];
  closeCode: number | undefined;
  closeReason = '';
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number; reason: string }>;
  private waiters: Array<() => void> = [];

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.messages.push(data.toString());
      this.wake();
    });
    ws.on('error', () => undefined);
    this.opened = new Promise((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('close', () => reject(new Error('closed before open')));
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
    this.opened.catch(() => undefined);
    this.closed = new Promise((resolve) => {
      ws.once('close', (code, reason) => {
        this.closeCode = code;
        this.closeReason = reason.toString();
        this.wake();
        resolve({ code, reason: reason.toString() });
      });
    });
  }

  static connect(url: string, options: WebSocket.ClientOptions & { protocols?: string[] } = {}): TestClient {
    return new TestClient(new WebSocket(url, options.protocols ?? [], options));
  }

  json(i: number): Record<string, unknown> {
    return JSON.parse(this.messages[i] as string) as Record<string, unknown>;
  }

  /** Resolves once `count` messages have arrived. */
  async nextMessages(count: number, timeoutMs = 10_000): Promise<string[]> {
    await this.until(() => this.messages.length >= count, `${count} messages (have ${this.messages.length})`, timeoutMs);
    return this.messages.slice(0, count);
  }

  async until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    await waitFor(condition, what, timeoutMs, { subscribe: (wake) => this.waiters.push(wake) });
  }

  close(): void {
    this.ws.close();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

/** How one WebSocket attempt ended: refused in HTTP before the upgrade, closed after it, or open with a first message. */
export type AttemptOutcome =
  | { kind: 'http'; status: number; retryAfter: string | undefined }
  | { kind: 'close'; code: number; reason: string }
  | { kind: 'message'; message: string };

/** One WebSocket attempt, to its first outcome; the connection is then cut. */
export async function attempt(url: string, options: WebSocket.ClientOptions & { protocols?: string[] } = {}): Promise<AttemptOutcome> {
  const client = TestClient.connect(url, options);
  const refused = new Promise<AttemptOutcome>((resolve) =>
    client.ws.once('unexpected-response', (req, res) => {
      res.resume();
      req.destroy();
      resolve({ kind: 'http', status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] });
    }),
  );
  const message = new Promise<AttemptOutcome>((resolve) =>
    client.ws.once('message', (data) => resolve({ kind: 'message', message: data.toString() })),
  );
  const closed = client.closed.then(({ code, reason }): AttemptOutcome => ({ kind: 'close', code, reason }));
  try {
    return await Promise.race([refused, message, closed]);
  } finally {
    client.ws.terminate();
  }
}
