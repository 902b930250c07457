import type { Socket } from 'node:net';
import WebSocket from 'ws';
import type { FramedMessage, MessageSender } from '../sessions/broadcast-writer';

export interface EventLaneOptions {
  ws: WebSocket;
  /** How messages reach the socket (the broadcast writer's sender for this connection). */
  send: MessageSender;
  /** Unsent bytes (the socket's buffer, snapshots included) past which the client is too slow: SEND_BUFFER_LIMIT. */
  limit: number;
  /** Called once when a message would pass the limit; the caller closes the connection (4005). */
  onSlow: () => void;
  /** Called once when the events cannot be served exactly (Redis failed mid-replay); the caller closes the connection (1013) so the client resumes. */
  onFail: () => void;
  /** Called after each message handed to the socket, with its frame size (metrics). */
  onSent?: (bytes: number) => void;
}

/**
 * One client's visit events. Unlike snapshots (latest wins), events are not
 * replaced: each is written in order, and a client whose unsent bytes would
 * pass the send-buffer limit is closed with 4005 instead of being queued
 * for without end — it reconnects with `since` and replays what it missed.
 * Replays pace themselves with room(): they hand over the next event only
 * once the socket has drained below a threshold, so a replay of thousands
 * of events never sits in memory at once.
 *
 * The events a tick brings (a burst: tens of visits) are pushed in one go;
 * the lane corks the socket until the next turn of the event loop so they
 * leave in one write instead of one system call each.
 */
export class EventLane {
  private inFlight = 0;
  private closedFlag = false;
  private corked = false;
  private readonly waiters: Array<{ below: number; resolve: () => void }> = [];
  private readonly closeListeners: Array<() => void> = [];

  constructor(private readonly options: EventLaneOptions) {
    options.ws.once('close', () => this.shut());
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** Bytes handed over but not yet sent: the socket's buffer. */
  backlog(): number {
    return this.options.ws.bufferedAmount;
  }

  /** Writes a message; false when the lane is closed, or closed now because the client is too slow. */
  push(message: FramedMessage): boolean {
    if (this.closedFlag) return false;
    if (this.options.ws.readyState !== WebSocket.OPEN) {
      this.shut();
      return false;
    }
    if (this.backlog() + message.frame.length > this.options.limit) {
      this.shut();
      this.options.onSlow();
      return false;
    }
    this.inFlight += 1;
    this.cork();
    this.options.send(message, this.onWritten);
    this.options.onSent?.(message.frame.length);
    return true;
  }

  /** The events cannot be continued exactly: close the lane and let the caller close the connection. */
  fail(): void {
    if (this.closedFlag) return;
    this.shut();
    this.options.onFail();
  }

  /** Resolves once the backlog is below `bytes`, or the lane closed. */
  room(bytes: number): Promise<void> {
    if (this.closedFlag || this.backlog() < bytes || this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ below: bytes, resolve }));
  }

  /** Runs `listener` once when the lane closes (the connection ended or was too slow). */
  onClose(listener: () => void): void {
    if (this.closedFlag) listener();
    else this.closeListeners.push(listener);
  }

  /** Holds this turn's writes in the socket and sends them together on the next tick (Node's documented cork/uncork pattern). */
  private cork(): void {
    if (this.corked) return;
    const socket = (this.options.ws as unknown as { _socket?: Socket | null })._socket;
    if (!socket) return;
    this.corked = true;
    socket.cork();
    process.nextTick(() => {
      this.corked = false;
      socket.uncork();
    });
  }

  private readonly onWritten = (): void => {
    this.inFlight -= 1;
    this.wake();
  };

  private wake(): void {
    if (this.waiters.length === 0) return;
    const backlog = this.backlog();
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const waiter = this.waiters[i]!;
      if (this.closedFlag || backlog < waiter.below || this.inFlight === 0) {
        this.waiters.splice(i, 1);
        waiter.resolve();
      }
    }
  }

  private shut(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.wake();
    for (const listener of this.closeListeners.splice(0)) listener();
  }
}
