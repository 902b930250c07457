export interface WaitForOptions {
  /** How often to check again, in ms. Default 20. */
  everyMs?: number;
  /** Called before each wait with a `wake` that re-checks at once (e.g. on a message) instead of after `everyMs`. */
  subscribe?: (wake: () => void) => void;
}

/**
 * Checks `condition` (sync or async) until it returns a truthy value and
 * resolves with that value; rejects naming `what` once `timeoutMs` has passed.
 * An error thrown by `condition` rejects at once.
 */
export async function waitFor<T>(
  condition: () => T | Promise<T>,
  what: string,
  timeoutMs = 10_000,
  { everyMs = 20, subscribe }: WaitForOptions = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, everyMs);
      subscribe?.(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
