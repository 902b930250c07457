import { fanoutSection, fanoutTable, fastPathTable } from '../../src/fanout/fanout-report';
import { fanoutRow } from './fanout-rows';

describe('the fan-out section', () => {
  it('prints one line per row, a failed row with its error in one cell', () => {
    const table = fanoutTable([
      fanoutRow('gateway', 10_000, 1, { closes: { 1006: 2 } }),
      fanoutRow('ws', 5000, 1, { error: 'died | badly' }),
    ]);
    expect(table).toContain(
      '| matomo-live gateway | 10,000 | 1 | 100,000 / 100,000 | 10,000 | 1.00 | 5.00 | 20.00 | 30.0 | 10.0 | 10 | 20.0 | 7.0 | 9.0 | 1006×2 |',
    );
    expect(table).toContain('| bare ws broadcast | 5000 | — | failed: died / badly |');
  });

  it('compares the fast path with ws.send only when both ran', () => {
    const on = fanoutRow('gateway', 1000, 10, { serverCpuPer1kDeliveriesMs: 10 });
    expect(fastPathTable([on])).toMatch(/^Not in this run\. /);
    const off = fanoutRow('gateway-ws-send', 1000, 10, { serverCpuPer1kDeliveriesMs: 15 });
    expect(fastPathTable([on, off])).toContain('| 1,000 | 10 | 10.0 | 15.0 | 1.50× | 1.00 | 1.00 |');
  });

  it('puts the settings, the ratios against each peer and the gateway send lag in the section', () => {
    const rows = [
      fanoutRow('gateway', 1000, 1, { gatewaySendLagP50Ms: 2.5, gatewaySendLagP99Ms: 10, gatewaySkippedMessages: 3 }),
      fanoutRow('ws', 1000, 1, { serverCpuPer1kDeliveriesMs: 5 }),
      fanoutRow('socketio', 1000, 1, { serverCpuPer1kDeliveriesMs: 40 }),
    ];
    const text = fanoutSection(rows, { payload: '2048 B', 'idle wait': '3 s' });
    expect(text).toContain('Settings: payload 2048 B; idle wait 3 s.');
    expect(text).toContain('| 1,000 | 1 | 0.50× | 4.00× | 1.00× | 1.00× |');
    expect(text).toContain('| 1,000 | 1 | 2.5 | 10.0 | 3 |');
    expect(text).not.toContain('(no fan-out results)');
    expect(fanoutSection([], {})).toContain('(no fan-out results)');
  });
});
