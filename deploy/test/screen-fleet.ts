/**
 * Real `ws` clients ("screens") for end-to-end tests: each records every
 * snapshot it receives and how its connections ended, and can reconnect.
 */
import WebSocket from 'ws';
import { waitFor as waitForWithin } from '@matomo-live/test-support/wait-for';

export interface ReceivedSnapshot {
  seq: number;
  site: number;
  visits_live: Array<{ city?: string }>;
  /** Which connection of this screen delivered it (0 = the first). */
  connection: number;
}

export interface ConnectOptions {
  /** Full ws:// URL (token in the query, the reference's form) … */
  url: string;
  /** … or the token as the `token.T` subprotocol next to `matomo-live.v1`. */
  subprotocolToken?: string;
  /** For wss:// URLs: the certificate (or CA) to trust, e.g. a self-signed one. */
  ca?: Buffer;
}

export class Screen {
  readonly snapshots: ReceivedSnapshot[] = [];
  /** Close codes of finished connections, in order. */
  readonly closeCodes: number[] = [];
  private socket: WebSocket | undefined;
  private connections = 0;

  constructor(
    readonly name: string,
    private readonly options: ConnectOptions,
  ) {}

  get open(): boolean {
    return this.socket?.readyState === WebSocket.OPEN;
  }

  /** Connections opened so far. */
  get connectionCount(): number {
    return this.connections;
  }

  /** Opens a connection; resolves once the handshake is done (or it closed first). */
  connect(): Promise<void> {
    const connection = this.connections++;
    const protocols = this.options.subprotocolToken === undefined ? [] : ['matomo-live.v1', `token.${this.options.subprotocolToken}`];
    const socket = new WebSocket(this.options.url, protocols, this.options.ca ? { ca: this.options.ca } : {});
    this.socket = socket;
    socket.on('message', (data) => {
      const message = JSON.parse(data.toString()) as Partial<ReceivedSnapshot> & { type?: string };
      if (message.type === 'pong') return;
      this.snapshots.push({ ...(message as ReceivedSnapshot), connection });
    });
    return new Promise((resolve) => {
      socket.once('open', () => resolve());
      // A refused handshake ends in 'error' then 'close'; the close code is what tests look at.
      socket.on('error', () => undefined);
      socket.once('close', (code) => {
        this.closeCodes.push(code);
        resolve();
      });
    });
  }

  /** The newest snapshot, if any. */
  get latest(): ReceivedSnapshot | undefined {
    return this.snapshots[this.snapshots.length - 1];
  }

  /** Whether a snapshot listing a visit from `city` arrived (on any connection). */
  sawCity(city: string): boolean {
    return this.snapshots.some((snapshot) => snapshot.visits_live?.some((visit) => visit.city === city));
  }

  close(): void {
    this.socket?.close(1000);
  }

  terminate(): void {
    this.socket?.terminate();
  }
}

/** The shared waitFor with this suite's defaults: containers are slow, so a minute, checked every 100 ms. */
export const waitFor = async (
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 60_000,
  everyMs = 100,
): Promise<void> => {
  await waitForWithin(condition, what, timeoutMs, { everyMs });
};
