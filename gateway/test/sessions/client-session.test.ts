import { once } from 'node:events';
import { CloseCode, PONG_MESSAGE } from '@matomo-live/protocol';
import { silentLogger } from '@matomo-live/test-support/logger';
import { waitFor } from '@matomo-live/test-support/wait-for';
import { TokenBucket } from '../../src/admission/rate-limits';
import { GatewayMetrics } from '../../src/metrics/gateway-metrics';
import { createBroadcastWriter, type BroadcastWriter, type MessageSender } from '../../src/sessions/broadcast-writer';
import { ClientSession, reasonWithDetail, type ClientSessionOptions } from '../../src/sessions/client-session';
import type { OutgoingMessage } from '../../src/snapshots/snapshot-hub';
import { wsPair, type WsPair } from '../support/ws-pair';

const realWriter = createBroadcastWriter({ logger: silentLogger });

function outgoing(seq: number, pad = 0): OutgoingMessage {
  const payload = Buffer.from(`{"seq":${seq},"pad":"${'x'.repeat(pad)}"}`);
  return { payload, frame: realWriter.encode(payload), site: 1, seq, receivedAt: Date.now() };
}

/** The real writer, except that each write's completion waits until the test releases it (a socket still busy). */
function heldWriter(): { writer: BroadcastWriter; release: () => void; held: () => number } {
  const waiting: Array<() => void> = [];
  const writer: BroadcastWriter = {
    ...realWriter,
    senderFor(ws) {
      const send = realWriter.senderFor(ws);
      const held: MessageSender = (message, done) => send(message, (error) => waiting.push(() => done(error)));
      return held;
    },
  };
  return { writer, release: () => waiting.splice(0).forEach((done) => done()), held: () => waiting.length };
}

describe('ClientSession', () => {
  let pair: WsPair;
  let metrics: GatewayMetrics;
  const events: string[] = [];

  beforeEach(async () => {
    pair = await wsPair();
    metrics = new GatewayMetrics();
    events.length = 0;
  });

  afterEach(async () => {
    await pair.close();
  });

  function session(options: Partial<ClientSessionOptions> = {}): ClientSession {
    return new ClientSession(
      pair.serverSide,
      { ip: '127.0.0.1', tokenKey: 'k', tokenId: 'id', siteId: 1 },
      {
        sendBufferLimit: 1 << 20,
        metrics,
        writer: realWriter,
        messageBucket: new TokenBucket(100, 100),
        now: Date.now,
        onClosed: () => events.push('closed'),
        onSlow: () => events.push('slow'),
        ...options,
      },
    );
  }

  async function closeCode(): Promise<number> {
    const [code] = (await once(pair.client, 'close')) as [number, Buffer];
    return code;
  }

  it('writes a snapshot, answers a ping, and counts what it sent', async () => {
    const sent = outgoing(1);
    session().deliver(sent);
    pair.client.send('{"type":"ping"}');
    await waitFor(() => pair.received.length === 2, 'the snapshot and the pong');
    expect(pair.received).toContain(sent.payload.toString());
    expect(pair.received).toContain(PONG_MESSAGE);
    expect(metrics.sent.messages).toBe(1);
    expect(metrics.sent.bytes).toBe(sent.frame.length);
  });

  it('keeps only the newest snapshot while a write is still pending (latest wins)', async () => {
    const held = heldWriter();
    const client = session({ writer: held.writer });
    client.deliver(outgoing(1));
    client.deliver(outgoing(2));
    client.deliver(outgoing(3));
    await waitFor(() => held.held() === 1, 'the first write handed to the socket');
    held.release();
    await waitFor(() => held.held() === 1, 'the newest snapshot written after it');
    held.release();
    await waitFor(() => pair.received.length === 2, 'two snapshots at the client');
    expect(pair.received.map((t) => (JSON.parse(t) as { seq: number }).seq)).toEqual([1, 3]);
    expect((await metrics.skippedMessages.get()).values[0]?.value).toBe(1);
  });

  it('writes status messages at once and in order beside the snapshots: none replaces, or is replaced by, a snapshot', async () => {
    const held = heldWriter();
    const client = session({ writer: held.writer });
    const status = (state: string) => {
      const payload = Buffer.from(`{"type":"status","state":"${state}"}`);
      return { payload, frame: realWriter.encode(payload) };
    };
    client.deliver(outgoing(1));
    client.deliverStatus(status('stale'));
    client.deliver(outgoing(2));
    client.deliver(outgoing(3));
    client.deliverStatus(status('live'));
    await waitFor(() => held.held() === 3, 'the first snapshot and both statuses handed to the socket');
    held.release();
    await waitFor(() => held.held() === 1, 'the newest snapshot written after them');
    held.release();
    await waitFor(() => pair.received.length === 4, 'four messages at the client');
    expect(pair.received.map((t) => JSON.parse(t) as { seq?: number; state?: string }).map((m) => m.seq ?? m.state)).toEqual([
      1,
      'stale',
      'live',
      3,
    ]);
    // Snapshot counters count snapshots.
    expect(metrics.sent.messages).toBe(2);
  });

  it('closes with 4005 a client whose unsent bytes a status message would take past the limit', async () => {
    const payload = Buffer.from('{"type":"status","state":"live"}');
    const client = session({ sendBufferLimit: payload.length - 1 });
    client.deliverStatus({ payload, frame: realWriter.encode(payload) });
    expect(events).toEqual(['slow']);
    expect(await closeCode()).toBe(CloseCode.SlowConsumer);
  });

  it('closes a client with 4005 when its unsent bytes pass the limit', async () => {
    const held = heldWriter();
    const first = outgoing(1, 100);
    const client = session({ writer: held.writer, sendBufferLimit: first.frame.length * 2 - 1 });
    client.deliver(first);
    client.deliver(outgoing(2, 100));
    client.deliver(outgoing(3, 100));
    expect(events).toEqual(['slow']);
    expect(await closeCode()).toBe(CloseCode.SlowConsumer);
  });

  it('closes with 1008 on a binary frame, and then says it is gone', async () => {
    session();
    pair.client.send(Buffer.from([1, 2, 3]));
    expect(await closeCode()).toBe(CloseCode.PolicyViolation);
    await waitFor(() => events.includes('closed'), 'onClosed');
  });

  it('closes with 1008 on a message that is not JSON', async () => {
    session();
    pair.client.send('not json');
    expect(await closeCode()).toBe(CloseCode.PolicyViolation);
  });

  it('hands a fresh token of an auth message on, and closes with 1008 on an auth message without one', async () => {
    const tokens: string[] = [];
    session({ onAuth: (_s, token) => tokens.push(token) });
    pair.client.send('{"type":"auth","token":"fresh.jwt.value"}');
    await waitFor(() => tokens.length === 1, 'the handed-on token');
    expect(tokens).toEqual(['fresh.jwt.value']);
    pair.client.send('{"type":"auth","token":42}');
    expect(await closeCode()).toBe(CloseCode.PolicyViolation);
    expect(tokens).toHaveLength(1);
  });

  it.each(['{"type":"auth"}', '{"type":"auth","token":""}'])('closes with 1008 on %s', async (frame) => {
    session({ onAuth: () => events.push('auth') });
    pair.client.send(frame);
    expect(await closeCode()).toBe(CloseCode.PolicyViolation);
    expect(events).not.toContain('auth');
  });

  it('closes with 1008 when the client sends faster than its bucket allows', async () => {
    session({ messageBucket: new TokenBucket(0, 1) });
    pair.client.send('{"type":"hello"}');
    pair.client.send('{"type":"hello"}');
    expect(await closeCode()).toBe(CloseCode.PolicyViolation);
  });

  it('keeps a close reason within a close frame’s 123 bytes', () => {
    const reason = reasonWithDetail(CloseCode.PolicyViolation, 'x'.repeat(500));
    expect(reason.length).toBe(123);
    expect(reason).toMatch(/^[^:]+: x+$/);
  });
});
