import { silentLogger } from '@matomo-live/test-support/logger';
import { waitFor } from '@matomo-live/test-support/wait-for';
import { EventLane, type EventLaneOptions } from '../../src/events/event-lane';
import { createBroadcastWriter, type FramedMessage } from '../../src/sessions/broadcast-writer';
import { wsPair, type WsPair } from '../support/ws-pair';

const writer = createBroadcastWriter({ logger: silentLogger });
const message = (text: string): FramedMessage => {
  const payload = Buffer.from(text);
  return { payload, frame: writer.encode(payload) };
};

describe('EventLane', () => {
  let pair: WsPair;
  const calls: string[] = [];

  beforeEach(async () => {
    pair = await wsPair();
    calls.length = 0;
  });

  afterEach(async () => {
    await pair.close();
  });

  function lane(options: Partial<EventLaneOptions> = {}): EventLane {
    return new EventLane({
      ws: pair.serverSide,
      send: writer.senderFor(pair.serverSide),
      limit: 1 << 20,
      onSlow: () => calls.push('slow'),
      onFail: () => calls.push('fail'),
      onSent: (bytes) => calls.push(`sent ${bytes}`),
      ...options,
    });
  }

  it('writes every event in order, counting each frame', async () => {
    const events = lane();
    const texts = Array.from({ length: 50 }, (_, i) => `{"event":${i}}`);
    for (const text of texts) expect(events.push(message(text))).toBe(true);
    await waitFor(() => pair.received.length === texts.length, 'every event at the client');
    expect(pair.received).toEqual(texts);
    expect(calls).toEqual(texts.map((t) => `sent ${message(t).frame.length}`));
    await events.room(1);
    expect(events.closed).toBe(false);
  });

  it('closes itself and says so once when an event would pass the send-buffer limit', () => {
    const events = lane({ limit: 10 });
    const closes: string[] = [];
    events.onClose(() => closes.push('closed'));
    expect(events.push(message('{"too":"long for ten bytes"}'))).toBe(false);
    expect(events.push(message('{}'))).toBe(false);
    expect(events.closed).toBe(true);
    expect(calls).toEqual(['slow']);
    expect(closes).toEqual(['closed']);
  });

  it('fails once, and runs close listeners registered before and after', () => {
    const events = lane();
    const closes: string[] = [];
    events.onClose(() => closes.push('before'));
    events.fail();
    events.fail();
    events.onClose(() => closes.push('after'));
    expect(calls).toEqual(['fail']);
    expect(closes).toEqual(['before', 'after']);
    expect(events.push(message('{}'))).toBe(false);
  });

  it('closes when the connection ends, without calling onSlow or onFail', async () => {
    const events = lane();
    const closed = new Promise<void>((resolve) => events.onClose(resolve));
    pair.client.close();
    await closed;
    expect(events.closed).toBe(true);
    expect(events.push(message('{}'))).toBe(false);
    expect(calls).toEqual([]);
  });
});
