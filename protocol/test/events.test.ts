import { asEventMessage, compareStreamIds, isStreamId, MAX_REWIND, parseEventsRequest, parseStreamId } from '../src/events';

describe('stream ids', () => {
  it('reads "<ms>-<seq>" only', () => {
    expect(parseStreamId('1795324289393-0')).toEqual({ ms: 1795324289393, seq: 0 });
    expect(parseStreamId('0-0')).toEqual({ ms: 0, seq: 0 });
    for (const bad of ['', '1795324289393', '-1-0', '1-', '1-a', ' 1-0', '1-0 ', '99999999999999999-0', '$', '+', '-'])
      expect([bad, parseStreamId(bad)]).toEqual([bad, undefined]);
    expect(isStreamId('12-3')).toBe(true);
  });

  it('orders by milliseconds, then sequence (not as text)', () => {
    expect(compareStreamIds('9-0', '10-0')).toBeLessThan(0);
    expect(compareStreamIds('10-10', '10-9')).toBeGreaterThan(0);
    expect(compareStreamIds('10-1', '10-1')).toBe(0);
    expect(() => compareStreamIds('x', '1-0')).toThrow(/not a stream id: x/);
  });
});

describe('parseEventsRequest', () => {
  it('asks for nothing without events=, whatever since and rewind say (they meant nothing before)', () => {
    expect(parseEventsRequest(null, 'junk', 'junk')).toEqual({ request: undefined });
    expect(parseEventsRequest('', null, null)).toEqual({ request: undefined });
  });

  it('reads events=visits with since or rewind', () => {
    expect(parseEventsRequest('visits', null, null)).toEqual({ request: { stream: 'visits' } });
    expect(parseEventsRequest('visits', '1795324289393-2', null)).toEqual({ request: { stream: 'visits', since: '1795324289393-2' } });
    expect(parseEventsRequest('visits', null, '300')).toEqual({ request: { stream: 'visits', rewind: 300 } });
  });

  it.each([
    ['pageviews', null, null, 'unknown events "pageviews"'],
    ['visits', 'yesterday', null, 'since is not a stream id'],
    ['visits', '1795324289393', null, 'since is not a stream id'],
    ['visits', null, '0', `rewind must be 1…${MAX_REWIND}`],
    ['visits', null, String(MAX_REWIND + 1), `rewind must be 1…${MAX_REWIND}`],
    ['visits', null, '1.5', `rewind must be 1…${MAX_REWIND}`],
  ])('refuses events=%s since=%s rewind=%s', (events, since, rewind, error) => {
    expect(parseEventsRequest(events, since, rewind)).toEqual({ request: undefined, error });
  });
});

describe('asEventMessage', () => {
  it('recognizes visits and resets by their envelope', () => {
    const visit = { type: 'visit', site: 1, id: '5-0', visit: { idVisit: 3 } };
    const reset = { type: 'events_reset', site: 1, id: '0-0', reason: 'start' };
    expect(asEventMessage(visit)).toBe(visit);
    expect(asEventMessage(reset)).toBe(reset);
  });

  it.each([
    null,
    'text',
    { type: 'pong' },
    { type: 'visit', site: 1, id: 'x', visit: {} },
    { type: 'visit', site: 1, id: '1-0' },
    { type: 'visit', site: '1', id: '1-0', visit: {} },
    { visits_live: [], summary: {}, seq: 1 },
  ])('ignores %j', (message) => {
    expect(asEventMessage(message)).toBeUndefined();
  });
});
