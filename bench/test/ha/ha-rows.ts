/** A test fixture, not a test: Redis HA results for the tests of what renders them (the HA section, the report). */
import type { HaResults } from '../../src/ha/ha-report';

export const haResults: HaResults = {
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
