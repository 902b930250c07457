import { decodeSnapshot, type SnapshotContent } from '@matomo-live/protocol';
import { canonicalJson, contentDigest, encodeSnapshot, snapshotSeq } from '../src/snapshot-codec';

const content: SnapshotContent = {
  site: 1,
  visits_live: [{ idVisit: 1, city: 'Lyon' }],
  summary: { today: 3, yesterday: 2, day_before: 1 },
} as unknown as SnapshotContent;

describe('snapshot codec', () => {
  it('digests content independently of key order, and differently when a value changes', () => {
    const reordered = {
      site: 1,
      summary: { day_before: 1, yesterday: 2, today: 3 },
      visits_live: [{ city: 'Lyon', idVisit: 1 }],
    } as unknown as SnapshotContent;
    expect(contentDigest(reordered)).toBe(contentDigest(content));
    expect(contentDigest(content)).toMatch(/^[0-9a-f]{64}$/);
    const changed = { ...content, summary: { today: 4, yesterday: 2, day_before: 1 } } as unknown as SnapshotContent;
    expect(contentDigest(changed)).not.toBe(contentDigest(content));
  });

  it('sorts object keys at every level and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}');
  });

  it('encodes the seed message with seq and updated_at after the content', () => {
    const at = new Date('2026-12-05T10:00:00Z');
    const bytes = encodeSnapshot(content, 42, at);
    const text = bytes.toString();
    expect(text.indexOf('"visits_live"')).toBeLessThan(text.indexOf('"seq"'));
    expect(JSON.parse(text)).toEqual({ ...content, seq: 42, updated_at: '2026-12-05T10:00:00.000Z' });
    const decoded = decodeSnapshot(bytes);
    expect('error' in decoded ? decoded.error : decoded.header.seq).toBe(42);
  });

  it('reads the seq of its own bytes without parsing, even when the content holds a "seq" field', () => {
    const tricky = { ...content, visits_live: [{ idVisit: 1, seq: 7 }] } as unknown as SnapshotContent;
    expect(snapshotSeq(encodeSnapshot(tricky, 1234, new Date()))).toBe(1234);
  });

  it('falls back to a full parse for bytes written by another encoder, and gives undefined for garbage', () => {
    const foreign = Buffer.from(
      JSON.stringify({ seq: 9, updated_at: new Date().toISOString(), ...content }).replace('"seq":9', '"seq" : 9'),
    );
    expect(snapshotSeq(foreign)).toBe(9);
    expect(snapshotSeq(Buffer.from('not json'))).toBeUndefined();
  });
});
