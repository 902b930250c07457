import { Registry } from 'prom-client';
import { TokenMetrics } from '../../src/metrics/token-metrics';

describe('TokenMetrics', () => {
  it('starts every source and result at zero, counts reloads and moves the timestamp on success only', async () => {
    const registry = new Registry();
    const metrics = new TokenMetrics(registry);
    const before = await registry.metrics();
    expect(before).toContain('matomo_live_gateway_token_reloads_total{source="files",result="failed"} 0');
    expect(before).toContain('matomo_live_gateway_token_reloads_total{source="jwks_url",result="applied"} 0');
    expect(before).toContain('matomo_live_gateway_token_last_reload_timestamp_seconds{source="jwks_url"} 0');
    metrics.record('files', 'applied', 1_700_000_000_500);
    metrics.record('files', 'failed', 1_700_000_100_000);
    const after = await registry.metrics();
    expect(after).toContain('matomo_live_gateway_token_reloads_total{source="files",result="applied"} 1');
    expect(after).toContain('matomo_live_gateway_token_reloads_total{source="files",result="failed"} 1');
    expect(after).toContain('matomo_live_gateway_token_last_reload_timestamp_seconds{source="files"} 1700000000');
    expect(after).toContain('matomo_live_gateway_token_revoked_closes_total 0');
  });
});
