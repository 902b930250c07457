/**
 * Reads the gateway's own /metrics (Prometheus text) so the report can show
 * its receive→write lag apart from the load generators' queueing, and how
 * many messages latest-wins skipped for clients that were still busy.
 */

export interface GatewayCounters {
  /** Cumulative counts of matomo_live_gateway_send_lag_seconds by upper bound (seconds). */
  sendLagBuckets: Map<number, number>;
  skippedMessages: number;
  slowClientCloses: number;
}

function value(text: string, name: string): number {
  const match = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'm').exec(text);
  return match ? Number(match[1]) : 0;
}

export function parseGatewayMetrics(text: string): GatewayCounters {
  const sendLagBuckets = new Map<number, number>();
  for (const match of text.matchAll(/^matomo_live_gateway_send_lag_seconds_bucket\{le="([^"]+)"\} ([0-9.e+-]+)$/gm)) {
    sendLagBuckets.set(match[1] === '+Inf' ? Number.POSITIVE_INFINITY : Number(match[1]), Number(match[2]));
  }
  return {
    sendLagBuckets,
    skippedMessages: value(text, 'matomo_live_gateway_skipped_messages_total'),
    slowClientCloses: value(text, 'matomo_live_gateway_slow_client_closes_total'),
  };
}

export async function scrapeGatewayMetrics(url: string): Promise<GatewayCounters> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  return parseGatewayMetrics(await response.text());
}

/** The bucket bound (ms) under which fraction `p` of the observations between two scrapes fall; NaN if none. */
export function sendLagPercentileMs(before: GatewayCounters, after: GatewayCounters, p: number): number {
  const bounds = [...after.sendLagBuckets.keys()].sort((a, b) => a - b);
  const delta = (le: number): number => (after.sendLagBuckets.get(le) ?? 0) - (before.sendLagBuckets.get(le) ?? 0);
  const total = delta(Number.POSITIVE_INFINITY);
  if (!total) return Number.NaN;
  const bound = bounds.find((le) => delta(le) >= p * total) ?? Number.POSITIVE_INFINITY;
  return bound * 1000;
}
