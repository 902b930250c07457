/** The one wait loop of tests and benchmarks: check a condition until it holds or a deadline passes. */
import { connect } from 'node:net';

export interface WaitForOptions {
  /** How often to check again, in ms. Default 20. */
  everyMs?: number;
  /** Called before each wait with a `wake` that re-checks at once (e.g. on a message) instead of after `everyMs`. */
  subscribe?: (wake: () => void) => void;
  /**
   * Treat an error thrown by `condition` as "not yet" (probes of a node that may be down on purpose); the last one
   * is quoted when the deadline passes. Default false: an error rejects at once.
   */
  errorsMeanNotYet?: boolean;
}

/**
 * Checks `condition` (sync or async) until it returns a truthy value and
 * resolves with that value; rejects naming `what` once `timeoutMs` has passed.
 */
export async function waitFor<T>(
  condition: () => T | Promise<T>,
  what: string,
  timeoutMs = 10_000,
  { everyMs = 20, subscribe, errorsMeanNotYet = false }: WaitForOptions = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value) return value;
    } catch (error) {
      if (!errorsMeanNotYet) throw error;
      lastError = error;
    }
    if (Date.now() > deadline) {
      const last = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last}`);
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, everyMs);
      subscribe?.(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

/** waitFor for probes of Redis nodes: errors mean "not yet", every 50 ms, 20 s by default. */
export function pollUntil<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  what: string,
  timeoutMs = 20_000,
  everyMs = 50,
): Promise<NonNullable<T>> {
  return waitFor<T | undefined | false>(check, what, timeoutMs, { everyMs, errorsMeanNotYet: true }) as Promise<NonNullable<T>>;
}

/** Something that may die while we wait for it (a started process). */
export interface Exitable {
  child: { exitCode: number | null };
  output(): string;
}

/** Resolves once something accepts TCP connections on host:port; rejects when `started` exits first or after `timeoutMs`. */
export async function waitForPort(port: number, started?: Exitable, timeoutMs = 20_000, host = '127.0.0.1'): Promise<void> {
  try {
    await waitFor(
      async () => {
        if (started && started.child.exitCode !== null) throw new Error(`process exited with ${started.child.exitCode}`);
        return acceptsConnections(port, host);
      },
      `something to listen on ${host}:${port}`,
      timeoutMs,
      { everyMs: 100 },
    );
  } catch (error) {
    if (!started) throw error;
    throw new Error(`${(error as Error).message}: ${started.output()}`, { cause: error });
  }
}

function acceptsConnections(port: number, host: string): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const socket = connect(port, host);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
