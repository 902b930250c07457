import type { Clock } from '@matomo-live/protocol';

/** A clock that moves only when the test says so; `advance` runs the timers that fall due, in time order. */
export class ManualClock implements Clock {
  private nextId = 1;
  readonly timers = new Map<number, { callback: () => void; at: number }>();

  constructor(private time = 0) {}

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.set(id, { callback, at: this.time + ms });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      const [id, timer] = [...this.timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0] ?? [];
      if (id === undefined || timer === undefined) break;
      this.timers.delete(id);
      this.time = Math.max(this.time, timer.at);
      timer.callback();
    }
    this.time = end;
  }
}
