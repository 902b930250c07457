import { decodeSnapshot } from '@matomo-live/protocol';
import { monotonicMs, numberField, PayloadFactory, SENT_AT_FIELD } from '../../src/common/payload';

describe('PayloadFactory', () => {
  it('builds valid snapshots of exactly the asked size, whatever the seq and send time', () => {
    const payloads = new PayloadFactory(2048);
    for (const [seq, sentAt] of [
      [Date.now() * 10, monotonicMs()],
      [Date.now() * 10 + 12345, 1.5],
    ] as const) {
      const bytes = payloads.message(seq, sentAt);
      expect(bytes.length).toBe(2048);
      const decoded = decodeSnapshot(bytes);
      expect('error' in decoded).toBe(false);
      if (!('error' in decoded)) expect(decoded.header.seq).toBe(seq);
    }
  });

  it('gives Socket.IO the same message as an object', () => {
    const payloads = new PayloadFactory(2048);
    expect(payloads.object(7, 12.5)).toEqual(JSON.parse(payloads.message(7, 12.5).toString()));
  });
});

describe('numberField', () => {
  it('finds seq and the send time in a snapshot and in a Socket.IO event frame', () => {
    const payloads = new PayloadFactory(2048);
    const plain = payloads.message(17_000_000_000_001, 123456.789);
    const socketIo = Buffer.from(`42["snapshot",${plain.toString()}]`);
    for (const bytes of [plain, socketIo]) {
      expect(numberField(bytes, 'seq')).toBe(17_000_000_000_001);
      expect(numberField(bytes, SENT_AT_FIELD)).toBeCloseTo(123456.789, 3);
    }
  });

  it('is NaN when the field is missing or not a number', () => {
    expect(numberField(Buffer.from('{"a":1}'), 'seq')).toBeNaN();
    expect(numberField(Buffer.from('{"seq":"x"}'), 'seq')).toBeNaN();
  });
});

describe('PayloadFactory sizes', () => {
  it('refuses a size below the unpadded snapshot instead of silently sending more', () => {
    expect(() => new PayloadFactory(100)).toThrow(RangeError);
  });
});
