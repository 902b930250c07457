/** Clock differences with Matomo below this are noise (its Date header has whole seconds), ms. */
export const CLOCK_TOLERANCE_MS = 2000;

/**
 * Matomo's clock minus ours, ms, from its Date header (whole seconds, so
 * +500 ms on average) against the middle of the request; 0 within
 * ±CLOCK_TOLERANCE_MS. undefined when there is no header or the request
 * took too long to tell (keep the previous estimate).
 */
export function estimateMatomoOffset(serverDateMs: number | undefined, sentAt: number, receivedAt: number): number | undefined {
  if (serverDateMs === undefined || receivedAt - sentAt > CLOCK_TOLERANCE_MS) return undefined;
  const raw = serverDateMs + 500 - (sentAt + receivedAt) / 2;
  return Math.abs(raw) < CLOCK_TOLERANCE_MS ? 0 : Math.round(raw);
}

/** The estimate moved enough to be worth a log line. */
export function offsetChanged(previousMs: number, nextMs: number): boolean {
  return Math.abs(nextMs - previousMs) >= CLOCK_TOLERANCE_MS;
}
