/**
 * Time as poller, gateway and client see it: injected so tests can drive
 * heartbeats, back-offs, drains and seq numbers.
 */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** A Clock that also repeats (the gateway's heartbeat). */
export interface IntervalClock extends Clock {
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

/** The real timers: the default wherever a clock is optional. */
export const systemClock: IntervalClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle),
  setInterval: (fn, ms) => globalThis.setInterval(fn, ms),
  clearInterval: (handle) => globalThis.clearInterval(handle),
};
