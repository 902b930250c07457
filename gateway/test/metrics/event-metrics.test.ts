import { Registry } from 'prom-client';
import { EventMetrics } from '../../src/metrics/event-metrics';

function sample(text: string, line: string): number | undefined {
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found === undefined ? undefined : Number(found.slice(line.length + 1));
}

describe('EventMetrics', () => {
  it('counts event writes per client and shows them at the next scrape', async () => {
    const registry = new Registry();
    const metrics = new EventMetrics(registry);
    metrics.count(100);
    metrics.count(50);
    let text = await registry.metrics();
    expect(sample(text, 'matomo_live_gateway_events_sent_total')).toBe(2);
    expect(sample(text, 'matomo_live_gateway_event_bytes_sent_total')).toBe(150);
    metrics.count(10);
    text = await registry.metrics();
    expect(sample(text, 'matomo_live_gateway_events_sent_total')).toBe(3);
    expect(sample(text, 'matomo_live_gateway_event_bytes_sent_total')).toBe(160);
  });

  it('reads the event clients at scrape time and labels replays, resets and gaps', async () => {
    const registry = new Registry();
    const metrics = new EventMetrics(registry);
    let clients = 4;
    metrics.clientsOf = () => clients;
    metrics.replays.inc({ outcome: 'resumed' });
    metrics.resets.inc({ reason: 'since-unknown' });
    metrics.gaps.inc({ site: '7' });
    let text = await registry.metrics();
    expect(sample(text, 'matomo_live_gateway_event_clients')).toBe(4);
    expect(sample(text, 'matomo_live_gateway_event_replays_total{outcome="resumed"}')).toBe(1);
    expect(sample(text, 'matomo_live_gateway_event_resets_total{reason="since-unknown"}')).toBe(1);
    expect(sample(text, 'matomo_live_gateway_event_gaps_total{site="7"}')).toBe(1);
    clients = 0;
    text = await registry.metrics();
    expect(sample(text, 'matomo_live_gateway_event_clients')).toBe(0);
  });
});
