import type { FeedStats } from '@matomo-live/shared';
import { GatewayMetrics, REFUSAL_REASONS } from '../../src/metrics/gateway-metrics';

function stats(partial: Partial<FeedStats>): FeedStats {
  return { gapsHealed: {}, resubscribes: 0, resyncs: 0, seqChecks: 0, seqCheckErrors: 0, ...partial };
}

/** The value of one sample in the Prometheus text, or undefined when absent. */
function sample(text: string, line: string): number | undefined {
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found === undefined ? undefined : Number(found.slice(line.length + 1));
}

describe('GatewayMetrics', () => {
  it('initialise: MAX_CONNECTIONS, and every close code, refusal reason and site at 0 before anything happened', async () => {
    const metrics = new GatewayMetrics();
    metrics.initialise({ maxConnections: 5000, siteIds: [1, 7] });
    const text = await metrics.registry.metrics();
    expect(sample(text, 'matomo_live_gateway_max_connections')).toBe(5000);
    for (const code of ['1001', '1008', '1009', '1013', '4001', '4002', '4003', '4004', '4005'])
      expect([code, sample(text, `matomo_live_gateway_closes_total{code="${code}"}`)]).toEqual([code, 0]);
    for (const reason of REFUSAL_REASONS)
      expect([reason, sample(text, `matomo_live_gateway_auth_failures_total{reason="${reason}"}`)]).toEqual([reason, 0]);
    expect(sample(text, 'matomo_live_gateway_feed_gaps_healed_total{site="7"}')).toBe(0);
  });

  it('leaves out the default gauges promtool rejects (named *_total), keeping the process metrics', async () => {
    const text = await new GatewayMetrics({ defaultMetrics: true }).registry.metrics();
    expect(text).toMatch(/^process_cpu_seconds_total /m);
    expect(text).not.toMatch(/^nodejs_active_handles_total /m);
  });

  it('reads feed readiness at scrape time', async () => {
    const metrics = new GatewayMetrics();
    let ready = false;
    metrics.feedReadiness = () => ready;
    expect(sample(await metrics.registry.metrics(), 'matomo_live_gateway_feed_ready')).toBe(0);
    ready = true;
    expect(sample(await metrics.registry.metrics(), 'matomo_live_gateway_feed_ready')).toBe(1);
  });

  it('folds the feed’s running totals into counters by their growth since the last scrape', async () => {
    const metrics = new GatewayMetrics();
    let current = stats({ gapsHealed: { 1: 2 }, resyncs: 1, seqChecks: 10 });
    metrics.feedStats = () => current;
    let text = await metrics.registry.metrics();
    expect(sample(text, 'matomo_live_gateway_feed_gaps_healed_total{site="1"}')).toBe(2);
    expect(sample(text, 'matomo_live_gateway_feed_resyncs_total')).toBe(1);
    expect(sample(text, 'matomo_live_gateway_feed_seq_checks_total')).toBe(10);
    current = stats({ gapsHealed: { 1: 5, 2: 1 }, resyncs: 1, seqChecks: 12, seqCheckErrors: 3 });
    text = await metrics.registry.metrics();
    expect(sample(text, 'matomo_live_gateway_feed_gaps_healed_total{site="1"}')).toBe(5);
    expect(sample(text, 'matomo_live_gateway_feed_gaps_healed_total{site="2"}')).toBe(1);
    expect(sample(text, 'matomo_live_gateway_feed_resyncs_total')).toBe(1);
    expect(sample(text, 'matomo_live_gateway_feed_seq_checks_total')).toBe(12);
    expect(sample(text, 'matomo_live_gateway_feed_seq_check_errors_total')).toBe(3);
  });

  it('folds the sent tally into the message and byte counters when scraped', async () => {
    const metrics = new GatewayMetrics();
    metrics.sent.messages += 3;
    metrics.sent.bytes += 300;
    let text = await metrics.registry.metrics();
    const messages = text.match(/^(matomo_live_gateway_\w*messages\w*_total) 3$/m);
    expect(messages).not.toBeNull();
    metrics.sent.messages += 2;
    text = await metrics.registry.metrics();
    expect(sample(text, messages![1]!)).toBe(5);
  });

  it('keeps two instances apart (tests run several gateways in one process), without process metrics by default', async () => {
    const a = new GatewayMetrics();
    const b = new GatewayMetrics();
    a.connections.inc();
    const total = async (m: GatewayMetrics) => (await m.connections.get()).values.reduce((sum, v) => sum + v.value, 0);
    expect(await total(a)).toBe(1);
    expect(await total(b)).toBe(0);
    expect(await a.registry.metrics()).not.toContain('process_cpu_seconds_total');
  });
});
