import WebSocket from 'ws';
import { CLOSE_CODE_RULES, CloseCode, PONG_MESSAGE } from '@matomo-live/protocol';
import type { GatewayMetrics } from '../metrics/gateway-metrics';
import type { TokenBucket } from '../admission/rate-limits';
import type { BroadcastWriter, FramedMessage, MessageSender } from './broadcast-writer';
import type { HubMembership, HubSubscriber, OutgoingMessage } from '../snapshots/snapshot-hub';
import type { StatusMembership, StatusSubscriber } from '../snapshots/status-hub';

const PONG = Buffer.from(PONG_MESSAGE);

/**
 * Sends the close frame and counts it: every close frame the gateway sends
 * goes through here. The reason is the code's text from the table, or what
 * the caller gives: a reconnect hint (encodeReconnectHint) for the codes that
 * may carry one, or the table's text with a detail (reasonWithDetail).
 */
export function closeWithCode(ws: WebSocket, code: CloseCode, metrics: GatewayMetrics, reason?: string): void {
  metrics.clientCloses.inc({ code });
  ws.close(code, reason ?? CLOSE_CODE_RULES[code].reason);
}

/** The code's text from the table and what was wrong (`Policy violation: since is not a stream id`), within a close frame's 123 bytes (ours are ASCII). */
export function reasonWithDetail(code: CloseCode, detail: string): string {
  return `${CLOSE_CODE_RULES[code].reason}: ${detail}`.slice(0, 123);
}

export interface ClientSessionOptions {
  /** Unsent bytes (socket buffer + skipped snapshots) before close 4005. */
  sendBufferLimit: number;
  metrics: GatewayMetrics;
  /** How messages reach this connection's socket (broadcast-writer.ts). */
  writer: BroadcastWriter;
  messageBucket: TokenBucket;
  now: () => number;
  /** Called once when the connection is gone. */
  onClosed: (session: ClientSession) => void;
  onSlow: (session: ClientSession) => void;
  /** A fresh token from the client (`{"type":"auth","token":"…"}`, session-tokens.ts). Default: ignored. */
  onAuth?: (session: ClientSession, token: string) => void;
}

/**
 * One client connection. Latest-wins: while an earlier write is still in the
 * socket's buffer, a new snapshot replaces the pending one instead of queueing;
 * the pending one goes out when the earlier write completes. A client whose
 * unsent bytes pass the limit is closed with 4005, without touching others.
 */
export class ClientSession implements HubSubscriber, StatusSubscriber {
  /** Cleared by each heartbeat, set by any pong or message. */
  alive = true;
  membership: HubMembership | null = null;
  /** Set when the connection asked for status messages (`?status=1`). */
  statusMembership: StatusMembership | null = null;
  private inFlight = 0;
  private pending: OutgoingMessage | null = null;
  /** Bytes of snapshots replaced while waiting (the client never got them). */
  private skippedBytes = 0;
  private closing = false;
  private readonly send: MessageSender;

  constructor(
    readonly ws: WebSocket,
    readonly info: { ip: string; tokenKey: string; tokenId: string; siteId: number },
    private readonly options: ClientSessionOptions,
  ) {
    this.send = options.writer.senderFor(ws);
    ws.on('pong', this.markAlive);
    ws.on('message', this.onMessage);
    ws.once('close', () => {
      this.closing = true;
      this.membership?.leave();
      this.statusMembership?.leave();
      options.onClosed(this);
    });
  }

  deliver(message: OutgoingMessage): void {
    if (this.closing || this.ws.readyState !== WebSocket.OPEN) return;
    if (this.inFlight > 0) {
      if (this.pending !== null) {
        this.skippedBytes += this.pending.frame.length;
        this.options.metrics.skippedMessages.inc();
      }
      this.pending = message;
      if (this.ws.bufferedAmount + this.skippedBytes + message.frame.length > this.options.sendBufferLimit) {
        this.options.onSlow(this);
        this.close(CloseCode.SlowConsumer);
      }
      return;
    }
    this.write(message, false);
  }

  /**
   * A status message: rare and small, so written at once and in order, never
   * latest-wins with the snapshots (a pending snapshot still goes out after
   * it). Unsent bytes past the limit close the connection with 4005 all the same.
   */
  deliverStatus(message: FramedMessage): void {
    if (this.closing || this.ws.readyState !== WebSocket.OPEN) return;
    if (this.ws.bufferedAmount + this.skippedBytes + message.frame.length > this.options.sendBufferLimit) {
      this.options.onSlow(this);
      return this.close(CloseCode.SlowConsumer);
    }
    this.inFlight += 1;
    this.send(message, this.onWritten);
  }

  /** `hint`: a reconnect hint as the reason (drain, rebalance). */
  close(code: CloseCode, hint?: string): void {
    if (this.closing) return;
    this.closing = true;
    this.pending = null;
    closeWithCode(this.ws, code, this.options.metrics, hint);
  }

  /** `deferred`: written after an earlier write completed, not in the broadcast itself. */
  private write(message: OutgoingMessage, deferred: boolean): void {
    this.inFlight += 1;
    this.send(message, this.onWritten);
    const { metrics } = this.options;
    metrics.sent.messages += 1;
    metrics.sent.bytes += message.frame.length;
    // Direct writes are timed once per broadcast by the gateway.
    if (deferred) metrics.sendLag.observe((this.options.now() - message.receivedAt) / 1000);
  }

  private readonly onWritten = (error?: Error | null): void => {
    this.inFlight -= 1;
    if (error || this.inFlight > 0 || this.pending === null) return;
    const next = this.pending;
    this.pending = null;
    this.skippedBytes = 0;
    if (!this.closing && this.ws.readyState === WebSocket.OPEN) this.write(next, true);
  };

  private readonly markAlive = (): void => {
    this.alive = true;
  };

  /** Clients need send nothing; what they send is rate-limited and must be JSON. */
  private readonly onMessage = (data: WebSocket.RawData, isBinary: boolean): void => {
    this.alive = true;
    if (!this.options.messageBucket.take()) return this.close(CloseCode.PolicyViolation);
    if (isBinary) return this.close(CloseCode.PolicyViolation);
    let message: unknown;
    try {
      message = JSON.parse(data.toString());
    } catch {
      return this.close(CloseCode.PolicyViolation);
    }
    if (message === null || typeof message !== 'object') return this.close(CloseCode.PolicyViolation);
    const { type, token } = message as { type?: unknown; token?: unknown };
    if (type === 'auth') {
      if (typeof token !== 'string' || token === '') return this.close(CloseCode.PolicyViolation);
      return this.options.onAuth?.(this, token);
    }
    // Unknown types are ignored: newer clients may send what this server does not know yet.
    if (type === 'ping' && this.ws.readyState === WebSocket.OPEN) this.ws.send(PONG);
  };
}
