import { decodeSnapshot } from '../src/snapshot';

const message = {
  visits_live: [],
  summary: { today: {}, yesterday: {}, day_before: {} },
  counters: null,
  site: 2,
  timezone: 'UTC',
  seq: 7,
  updated_at: '2026-11-22T10:00:00.000Z',
};

describe('decodeSnapshot', () => {
  it('reads text and UTF-8 bytes (a Buffer is a Uint8Array) alike', () => {
    const text = JSON.stringify({ ...message, visits_live: [{ city: 'Tromsø' }] });
    for (const input of [text, new TextEncoder().encode(text), Buffer.from(text)]) {
      const decoded = decodeSnapshot(input);
      expect(decoded).toMatchObject({ header: { site: 2, seq: 7 }, snapshot: { visits_live: [{ city: 'Tromsø' }] } });
    }
  });

  it.each([
    ['not json', 'not JSON'],
    ['[1]', 'not an object'],
    [JSON.stringify({ ...message, visits_live: {} }), 'visits_live is not an array'],
    [JSON.stringify({ ...message, summary: null }), 'summary is missing'],
    [JSON.stringify({ ...message, seq: 1.5 }), 'seq is not a whole number'],
    [JSON.stringify({ ...message, site: 0 }), 'site is not a site id'],
  ])('refuses %s', (input, error) => {
    expect(decodeSnapshot(input)).toEqual({ error });
  });
});
