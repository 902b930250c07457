import WebSocket from 'ws';

interface FrameOptions {
  fin: boolean;
  opcode: number;
  mask: boolean;
  readOnly: boolean;
  rsv1: boolean;
}
const frame = (WebSocket as unknown as { Sender: { frame(data: Buffer, options: FrameOptions): Buffer[] } }).Sender.frame;

/**
 * The complete server→client text frame for a payload (header + payload, one
 * buffer): built once per broadcast with ws's own framing code, then written
 * as-is to every client's socket.
 */
export function encodeTextFrame(payload: Buffer): Buffer {
  const parts = frame(payload, { fin: true, opcode: 0x1, mask: false, readOnly: true, rsv1: false });
  return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
}
