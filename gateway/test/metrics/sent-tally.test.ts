import { Counter, Registry } from 'prom-client';
import { SentTally } from '../../src/metrics/sent-tally';

describe('SentTally', () => {
  it('adds to a counter, at each scrape, only what was written since the previous one', async () => {
    const registry = new Registry();
    const tally = new SentTally();
    const messages: Counter = new Counter({
      name: 'tally_messages_total',
      help: 'messages',
      registers: [registry],
      collect: (): void => tally.fold('messages', messages),
    });
    const bytes: Counter = new Counter({
      name: 'tally_bytes_total',
      help: 'bytes',
      registers: [registry],
      collect: (): void => tally.fold('bytes', bytes),
    });
    const scrape = async () => (await registry.getMetricsAsJSON()).map((m) => [m.name, m.values[0]?.value]);
    tally.messages += 2;
    tally.bytes += 300;
    expect(await scrape()).toEqual([
      ['tally_messages_total', 2],
      ['tally_bytes_total', 300],
    ]);
    expect(await scrape()).toEqual([
      ['tally_messages_total', 2],
      ['tally_bytes_total', 300],
    ]);
    tally.messages += 1;
    tally.bytes += 50;
    expect(await scrape()).toEqual([
      ['tally_messages_total', 3],
      ['tally_bytes_total', 350],
    ]);
  });
});
