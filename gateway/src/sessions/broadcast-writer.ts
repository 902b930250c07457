import type { Socket } from 'node:net';
import WebSocket from 'ws';
import type { Logger } from '@matomo-live/shared';
import { LOG_DOCS } from '../log-docs';

/**
 * The broadcast fast path, and the only module that knows ws internals.
 *
 * A broadcast frames its payload once and writes the same buffer to every
 * client's TCP socket, instead of ws framing (and copying) it per client. That
 * needs three things ws does not document: `WebSocket.Sender.frame` (its
 * framing code), and per connection `_socket` plus `_sender._state` /
 * `_sender._queue` (to write only while ws itself has nothing queued, so
 * frames never interleave). checkFastPath() verifies them once at start-up;
 * without them (a ws release that renamed them) or with BROADCAST_FAST_PATH=false
 * every write goes through `ws.send`, slower but always correct.
 * gateway/test/sessions/broadcast-writer.test.ts fails when the ws in the lockfile no
 * longer has what this uses.
 */

/** Which way broadcasts reach the sockets. */
export type BroadcastPath = 'shared-frame' | 'ws-send';

interface SenderInternals {
  _state: number;
  _queue: unknown[];
}
interface WebSocketInternals {
  _socket: Socket | null;
  _sender: SenderInternals | null;
}
interface FrameOptions {
  fin: boolean;
  opcode: number;
  mask: boolean;
  readOnly: boolean;
  rsv1: boolean;
}
type FrameFunction = (data: Buffer, options: FrameOptions) => Buffer[];
type WsModule = typeof WebSocket & { Sender?: { frame?: FrameFunction; new (socket: unknown): unknown } };

/** ws's Sender state when it is not busy (lib/sender.js DEFAULT). */
const SENDER_IDLE = 0;
const TEXT_FRAME: FrameOptions = { fin: true, opcode: 0x1, mask: false, readOnly: true, rsv1: false };

export interface FastPathCheck {
  available: boolean;
  /** What is missing or different; empty when available. */
  problems: string[];
}

/** Checks, without any connection, that `ws` has what the fast path uses and frames as expected. */
export function checkFastPath(ws: WsModule = WebSocket): FastPathCheck {
  const problems: string[] = [];
  const attempt = (what: string, check: () => string | undefined) => {
    try {
      const problem = check();
      if (problem !== undefined) problems.push(problem);
    } catch (error) {
      problems.push(`${what} throws: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  attempt('Sender.frame', () => {
    const frame = ws.Sender?.frame;
    if (typeof frame !== 'function') return 'WebSocket.Sender.frame is not a function';
    const bytes = Buffer.concat(frame(Buffer.from('hi'), TEXT_FRAME));
    return bytes.equals(Buffer.from([0x81, 0x02, 0x68, 0x69]))
      ? undefined
      : `WebSocket.Sender.frame built ${bytes.toString('hex')} for "hi"`;
  });
  attempt('new Sender()', () => {
    if (typeof ws.Sender !== 'function') return 'WebSocket.Sender is not a class';
    const sender = new ws.Sender({}) as Partial<SenderInternals>;
    if (sender._state !== SENDER_IDLE) return `an idle Sender's _state is ${String(sender._state)}, not ${SENDER_IDLE}`;
    if (!Array.isArray(sender._queue)) return 'a Sender has no _queue array';
    return undefined;
  });
  attempt('new WebSocket(null)', () => {
    // The server side's form before the handshake: no connection is made.
    const socket = new (ws as unknown as new (address: null, protocols: undefined, options: object) => object)(null, undefined, {});
    return '_socket' in socket && '_sender' in socket ? undefined : 'a WebSocket has no _socket / _sender fields';
  });
  return { available: problems.length === 0, problems };
}

/** One message as the broadcast hands it over: the JSON text and what encode() made of it. */
export interface FramedMessage {
  payload: Buffer;
  frame: Buffer;
}

/** Writes one message to one connection; `done` runs once the bytes are handed to the socket. */
export type MessageSender = (message: FramedMessage, done: (error?: Error | null) => void) => void;

export interface BroadcastWriter {
  readonly path: BroadcastPath;
  /** What a broadcast keeps per message: the complete unmasked text frame on the fast path, the payload itself on ws-send. */
  encode(payload: Buffer): Buffer;
  /** The writer for one connection (fixed at the handshake: its negotiated extensions decide). */
  senderFor(ws: WebSocket): MessageSender;
  /** Writes taken by each way so far (tests and the benchmark check which one really ran). */
  readonly writes: { sharedFrame: number; wsSend: number };
}

export interface BroadcastWriterOptions {
  /** BROADCAST_FAST_PATH. Default true. */
  enabled?: boolean;
  logger: Logger;
  /** Default checkFastPath() of the installed ws. */
  check?: FastPathCheck;
}

/** The broadcast writer of one gateway; logs at start-up which way it writes when that is not the fast one. */
export function createBroadcastWriter({ enabled = true, logger, check = checkFastPath() }: BroadcastWriterOptions): BroadcastWriter {
  const path: BroadcastPath = enabled && check.available ? 'shared-frame' : 'ws-send';
  if (!enabled) logger.info({ broadcast: path, docs: LOG_DOCS.broadcastFastPath }, 'broadcast fast path off: writing through ws.send');
  else if (!check.available)
    logger.warn(
      { broadcast: path, problems: check.problems, docs: LOG_DOCS.broadcastFastPath },
      'ws internals changed: writing through ws.send',
    );
  const frame = (WebSocket as WsModule).Sender?.frame;
  const writes = { sharedFrame: 0, wsSend: 0 };

  const viaSend =
    (ws: WebSocket): MessageSender =>
    (message, done) => {
      writes.wsSend += 1;
      ws.send(message.payload, { binary: false }, done);
    };

  const senderFor = (ws: WebSocket): MessageSender => {
    // ws's getter joins the negotiated extensions' names on each read: read it once. Deflate transforms frames.
    if (path === 'ws-send' || ws.extensions !== '') return viaSend(ws);
    const raw = ws as unknown as WebSocketInternals;
    const fallback = viaSend(ws);
    return (message, done) => {
      const socket = raw._socket;
      const sender = raw._sender;
      // Straight to the socket only while ws has nothing of its own in flight, so frames never interleave.
      if (socket !== null && sender !== null && sender._state === SENDER_IDLE && sender._queue.length === 0) {
        writes.sharedFrame += 1;
        socket.write(message.frame, done);
      } else {
        fallback(message, done);
      }
    };
  };

  return {
    path,
    encode:
      path === 'shared-frame' && frame
        ? (payload) => {
            const parts = frame(payload, TEXT_FRAME);
            return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
          }
        : (payload) => payload,
    senderFor,
    writes,
  };
}
