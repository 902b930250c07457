import { DeadlineQueue } from '../../src/sessions/deadline-queue';
import { ManualClock } from '../support/manual-clock';

describe('DeadlineQueue', () => {
  function queue(start = 1000) {
    const clock = new ManualClock(start);
    const due: string[] = [];
    const q = new DeadlineQueue<string>(clock, (item) => due.push(`${item}@${clock.now()}`));
    return { clock, due, q };
  }

  it('calls each item once, at its deadline, in time order, on one timer', () => {
    const { clock, due, q } = queue();
    q.set('c', 4000);
    q.set('a', 2000);
    q.set('b', 3000);
    expect(clock.timers.size).toBe(1);
    clock.advance(999);
    expect(due).toEqual([]);
    clock.advance(1);
    expect(due).toEqual(['a@2000']);
    clock.advance(5000);
    expect(due).toEqual(['a@2000', 'b@3000', 'c@4000']);
    expect(q.size).toBe(0);
    expect(clock.timers.size).toBe(0);
  });

  it('moves and cancels deadlines', () => {
    const { clock, due, q } = queue();
    q.set('a', 2000);
    q.set('b', 2500);
    q.set('a', 5000);
    q.delete('b');
    clock.advance(3000);
    expect(due).toEqual([]);
    expect(q.get('a')).toBe(5000);
    clock.advance(1000);
    expect(due).toEqual(['a@5000']);
  });

  it('fires a deadline already past at once, and reaches one beyond setTimeout in steps', () => {
    const { clock, due, q } = queue();
    q.set('late', 500);
    clock.advance(0);
    expect(due).toEqual(['late@1000']);
    const far = 1000 + 2 ** 31 + 5;
    q.set('far', far);
    clock.advance(2 ** 31 - 1);
    expect(due).toEqual(['late@1000']);
    clock.advance(10);
    expect(due).toEqual(['late@1000', `far@${far}`]);
  });

  it('keeps its heap bounded when deadlines keep moving', () => {
    const { clock, due, q } = queue();
    for (let i = 0; i < 10_000; i += 1) q.set('refreshed', 2000 + i);
    q.set('other', 3000);
    const heap = (q as unknown as { heap: unknown[] }).heap;
    expect(heap.length).toBeLessThanOrEqual(130);
    clock.advance(20_000);
    expect(due).toEqual(['other@3000', 'refreshed@11999']);
  });

  it('clear() stops the timer', () => {
    const { clock, due, q } = queue();
    q.set('a', 2000);
    q.clear();
    expect(clock.timers.size).toBe(0);
    clock.advance(5000);
    expect(due).toEqual([]);
  });
});
