import type { Clock } from '@matomo-live/protocol';

/** setTimeout's largest delay; a later deadline is reached in steps. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * Deadlines of many items on one timer: a min-heap by time, and one clock
 * timer armed for the earliest. Moving or cancelling a deadline leaves its
 * old heap entry behind, skipped when it surfaces (the map says which entry
 * is current) and swept when stale entries outnumber live ones, so 100,000
 * sessions cost one timer, not 100,000.
 */
export class DeadlineQueue<T> {
  private heap: Array<{ at: number; item: T }> = [];
  private readonly current = new Map<T, number>();
  private timer: unknown;
  private timerAt = Infinity;

  /**
   * @param clock time and the one timer
   * @param onDue called once per item whose deadline passed (after it was removed)
   */
  constructor(
    private readonly clock: Clock,
    private readonly onDue: (item: T) => void,
  ) {}

  /** Sets (or moves) the item's deadline, ms since epoch on the clock. */
  set(item: T, at: number): void {
    this.current.set(item, at);
    this.push({ at, item });
    if (this.heap.length > 64 && this.heap.length > 2 * this.current.size) this.sweep();
    this.arm();
  }

  /** The item needs no deadline any more (closed, or its token does not expire). */
  delete(item: T): void {
    this.current.delete(item);
    if (this.current.size === 0) {
      this.heap = [];
      this.arm();
    }
  }

  /** The item's deadline, if it has one. */
  get(item: T): number | undefined {
    return this.current.get(item);
  }

  /** Items with a deadline. */
  get size(): number {
    return this.current.size;
  }

  /** Stops the timer and forgets every deadline. */
  clear(): void {
    this.current.clear();
    this.heap = [];
    this.arm();
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = this.clock.now();
    const due: T[] = [];
    while (this.heap.length > 0 && (this.heap[0] as { at: number }).at <= now) {
      const { at, item } = this.pop();
      if (this.current.get(item) !== at) continue;
      this.current.delete(item);
      due.push(item);
    }
    this.arm();
    for (const item of due) this.onDue(item);
  };

  /** One timer, for the earliest live entry. */
  private arm(): void {
    while (this.heap.length > 0) {
      const top = this.heap[0] as { at: number; item: T };
      if (this.current.get(top.item) === top.at) break;
      this.pop();
    }
    const next = this.heap[0]?.at ?? Infinity;
    if (next === this.timerAt) return;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = next;
    if (next === Infinity) return;
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, next - this.clock.now()));
    this.timer = this.clock.setTimeout(this.fire, delay);
    (this.timer as { unref?: () => void }).unref?.();
  }

  private sweep(): void {
    const live = this.heap.filter(({ at, item }) => this.current.get(item) === at);
    this.heap = [];
    for (const entry of live) this.push(entry);
  }

  private push(entry: { at: number; item: T }): void {
    const heap = this.heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((heap[parent] as { at: number }).at <= entry.at) break;
      heap[i] = heap[parent] as { at: number; item: T };
      i = parent;
    }
    heap[i] = entry;
  }

  private pop(): { at: number; item: T } {
    const heap = this.heap;
    const top = heap[0] as { at: number; item: T };
    const last = heap.pop() as { at: number; item: T };
    if (heap.length === 0) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && (heap[right] as { at: number }).at < (heap[left] as { at: number }).at ? right : left;
      if ((heap[child] as { at: number }).at >= last.at) break;
      heap[i] = heap[child] as { at: number; item: T };
      i = child;
    }
    heap[i] = last;
    return top;
  }
}
