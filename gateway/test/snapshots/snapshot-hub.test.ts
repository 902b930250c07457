import { encodeSnapshot } from '@matomo-live/shared';
import { SnapshotHub, type OutgoingMessage } from '../../src/snapshots/snapshot-hub';
import { silentLogger } from '@matomo-live/test-support/logger';
import { content } from '../support/harness';

const snap = (seq: number, visits = seq, site = 1) => encodeSnapshot(content(site, visits), seq, new Date(0));

function recorder() {
  const got: OutgoingMessage[] = [];
  return { got, deliver: (m: OutgoingMessage) => got.push(m) };
}

describe('SnapshotHub', () => {
  it('drops an equal seq, delivers a higher and a lower one', () => {
    const hub = new SnapshotHub({ siteIds: [1], logger: silentLogger });
    const sub = recorder();
    hub.join(1, undefined, sub);
    expect([hub.accept(1, snap(5)), hub.accept(1, snap(5)), hub.accept(1, snap(6)), hub.accept(1, snap(1))]).toEqual([
      'delivered',
      'duplicate',
      'delivered',
      'delivered',
    ]);
    expect(sub.got.map((m) => m.seq)).toEqual([5, 6, 1]);
  });

  it('hands out the published bytes and one shared encoding per change', () => {
    const hub = new SnapshotHub({ siteIds: [1], logger: silentLogger, encode: (p) => Buffer.concat([Buffer.from('#'), p]) });
    const [a, b] = [recorder(), recorder()];
    hub.join(1, undefined, a);
    hub.join(1, undefined, b);
    const bytes = snap(2);
    hub.accept(1, bytes);
    expect(a.got[0]?.payload).toBe(bytes);
    expect(a.got[0]?.frame).toBe(b.got[0]?.frame);
    expect(a.got[0]?.frame.toString()).toBe(`#${bytes.toString()}`);
  });

  it('gives a late joiner the current message without another encoding', () => {
    let encodings = 0;
    const hub = new SnapshotHub({ siteIds: [1], logger: silentLogger, encode: (p) => (encodings++, p) });
    hub.join(1, undefined, recorder());
    hub.accept(1, snap(3));
    const late = hub.join(1, undefined, recorder());
    expect(late.current?.seq).toBe(3);
    expect(encodings).toBe(1);
  });

  it('ignores malformed bytes, other sites and unknown sites', () => {
    const hub = new SnapshotHub({ siteIds: [1], logger: silentLogger });
    expect(hub.accept(1, Buffer.from('{'))).toBe('malformed');
    expect(hub.accept(1, snap(1, 1, 2))).toBe('malformed');
    expect(hub.accept(7, snap(1))).toBe('unknown-site');
    expect(hub.latest(1)).toBeNull();
  });

  it('builds a fields variant only when its own content changes, and drops it when empty', () => {
    const hub = new SnapshotHub({ siteIds: [1], logger: silentLogger });
    const sub = recorder();
    const membership = hub.join(1, ['summary'], sub);
    hub.accept(1, encodeSnapshot(content(1, 1), 1, new Date(0)));
    hub.accept(1, encodeSnapshot(content(1, 1, { timezone: 'UTC' }), 2, new Date(0)));
    hub.accept(1, encodeSnapshot(content(1, 9), 3, new Date(0)));
    expect(sub.got.map((m) => JSON.parse(m.payload.toString()))).toEqual([
      expect.objectContaining({ seq: 1, site: 1 }),
      expect.objectContaining({ seq: 3, summary: expect.objectContaining({ today: expect.objectContaining({ visits: 9 }) }) }),
    ]);
    expect(Object.keys(JSON.parse(sub.got[0]!.payload.toString()))).toEqual(['summary', 'site', 'seq', 'updated_at']);
    membership.leave();
    const again = hub.join(1, ['summary'], recorder());
    expect(again.current?.seq).toBe(3);
  });
});
