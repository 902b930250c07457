import type { Clock } from '@matomo-live/client';

/** A clock whose timers run only when the test says so; it records every delay asked for. */
export class ManualClock implements Clock {
  private nextId = 1;
  private time = 0;
  readonly pending = new Map<number, { callback: () => void; ms: number; at: number }>();
  readonly requested: number[] = [];

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.requested.push(ms);
    this.pending.set(id, { callback, ms, at: this.time + ms });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }

  /** Moves the time forward without running any timer (time passing between events). */
  advance(ms: number): void {
    this.time += ms;
  }

  /** Delays of the timers still pending. */
  pendingDelays(): number[] {
    return [...this.pending.values()].map((t) => t.ms);
  }

  /** Advances to the earliest pending timer whose delay satisfies `which` and runs it. */
  runNext(which: (ms: number) => boolean = () => true): number {
    const [id, timer] = [...this.pending.entries()].filter(([, t]) => which(t.ms)).sort((a, b) => a[1].at - b[1].at)[0] ?? [];
    if (id === undefined || !timer) throw new Error(`no pending timer matches; pending: ${this.pendingDelays().join(', ')}`);
    this.pending.delete(id);
    this.time = Math.max(this.time, timer.at);
    timer.callback();
    return timer.ms;
  }
}
