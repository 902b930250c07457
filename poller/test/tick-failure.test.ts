import { AnswerShapeError } from '../src/matomo-answers';
import { MatomoRequestError } from '../src/matomo-client';
import { PartState } from '../src/part-state';
import { PublishError, TickFailure } from '../src/tick-failure';

describe('TickFailure', () => {
  it('reading: a Matomo failure keeps its kind, a surprising answer is shape, anything else internal', () => {
    expect(TickFailure.reading(new MatomoRequestError('api-error', 'no such site')).kind).toBe('api-error');
    expect(TickFailure.reading(new AnswerShapeError('Live.getCounters', 'expected an array')).kind).toBe('shape');
    const bug = TickFailure.reading(new TypeError('x is undefined'));
    expect(bug).toMatchObject({ kind: 'internal', message: 'x is undefined' });
    expect(bug.cause).toBeInstanceOf(TypeError);
  });

  it('missing: the latest failure of a part that never worked, or "not fetched yet"', () => {
    const part = new PartState<number>();
    expect(TickFailure.missing(part, 'site 1: totals')).toMatchObject({ kind: 'shape', message: 'site 1: totals: not fetched yet' });
    part.fail('HTTP 502', 'http', 1);
    expect(TickFailure.missing(part, 'site 1: totals')).toMatchObject({ kind: 'http', message: 'site 1: totals: HTTP 502' });
  });

  it('of: a prefix and the expected kind', () => {
    expect(TickFailure.of(PublishError.of(new Error('READONLY')), 'publish', 'publish: ')).toMatchObject({
      kind: 'publish',
      message: 'publish: READONLY',
    });
    expect(PublishError.of('text').message).toBe('text');
  });
});
