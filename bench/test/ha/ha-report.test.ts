import { redisHaSection, type HaResults } from '../../src/ha/ha-report';

const ha: HaResults = {
  failover: [
    {
      mode: 'sentinel',
      topology: '1 master',
      gateways: 2,
      clients: 10,
      rounds: [
        { promotedMs: 1400, allClientsMs: 2400, afterPromotionMs: 1000, clients: 10, disconnected: 0 },
        { promotedMs: 1500, allClientsMs: 2600, afterPromotionMs: 1100, clients: 10, disconnected: 0 },
        { promotedMs: 1300, allClientsMs: 2500, afterPromotionMs: 1200, clients: 10, disconnected: 0 },
      ],
    },
  ],
  publishCost: [
    {
      publish: 'SPUBLISH',
      changes: 10,
      subscribers: 3,
      payloadBytes: 2048,
      commandsPerChange: 9,
      clientBytesPerChange: 13000,
      busMessagesPerChange: 1,
      busBytesPerChange: 2000,
      nodesServingSubscribers: 1,
    },
  ],
};

describe('the Redis HA section', () => {
  it('shows failover timings as median (min–max) seconds, and the cost per change', () => {
    const text = redisHaSection(ha);
    expect(text).toContain('| sentinel | 1 master | 3 | 1.4 s (1.3–1.5) | 2.5 s (2.4–2.6) | 1.1 s (1.0–1.2) | 0 of 30 |');
    expect(text).toContain('| SPUBLISH | 9.0 | 13,000 | 1.0 | 2,000 | 1 |');
  });

  it('says how to run it when it was not, and prints a failed mode in its row', () => {
    expect(redisHaSection(undefined)).toContain('(not run: `npm run bench -- --only=ha`)');
    const failed = redisHaSection({ ...ha, failover: [{ ...ha.failover[0]!, rounds: [], error: 'no | quorum' }] });
    expect(failed).toContain('| sentinel | failed: no / quorum |');
  });
});
