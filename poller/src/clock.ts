/**
 * Time as the poller sees it; injected so tests can drive seq numbers and
 * back-off deadlines. Structurally a subset of the gateway's Clock, so the
 * single-process mode can hand the same object to both.
 */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};
