import { efficiencyRatio, findRow, memoryRatio } from '../../src/fanout/fanout-ratios';
import { fanoutRow } from './fanout-rows';

describe('fan-out ratios', () => {
  const gateway = fanoutRow('gateway', 1000, 1, { serverCpuPer1kDeliveriesMs: 10, idleRssPerClientBytes: 4096 });
  const ws = fanoutRow('ws', 1000, 1, { serverCpuPer1kDeliveriesMs: 8, idleRssPerClientBytes: 2048 });
  const sio = fanoutRow('socketio', 1000, 1, { serverCpuPer1kDeliveriesMs: 30, idleRssPerClientBytes: 16384 });

  it('compares deliveries per CPU-second: the inverse of CPU per 1k deliveries', () => {
    expect(efficiencyRatio(gateway, ws)).toBeCloseTo(0.8);
    expect(efficiencyRatio(gateway, sio)).toBeCloseTo(3);
  });

  it('compares idle memory: how many times smaller the first is', () => {
    expect(memoryRatio(gateway, sio)).toBe(4);
    expect(memoryRatio(gateway, ws)).toBe(0.5);
  });

  it('is NaN when either side is missing', () => {
    expect(efficiencyRatio(gateway, undefined)).toBeNaN();
    expect(memoryRatio(undefined, ws)).toBeNaN();
  });

  it('finds a row by server, size and rate, never a failed one', () => {
    const failed = fanoutRow('ws', 5000, 1, { error: 'crashed' });
    const rows = [gateway, ws, fanoutRow('ws', 1000, 10), failed];
    expect(findRow(rows, 'ws', 1000, 1)).toBe(ws);
    expect(findRow(rows, 'ws', 1000, 10)?.rate).toBe(10);
    expect(findRow(rows, 'ws', 5000, 1)).toBeUndefined();
    expect(findRow(rows, 'socketio', 1000, 1)).toBeUndefined();
  });
});
