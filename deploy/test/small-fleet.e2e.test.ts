// Small fleets stay calm: a wall of a few screens on two or three gateways behind the shipped NGINX site is
// left alone by rebalancing. Before REBALANCE_MIN_EXCESS, 3 screens on 2 gateways (2 vs 1) were "above the share"
// by one connection, in turn, for ever: a screen closed about 11 times a minute. Real gateways (one process here),
// real Redis for the fleet counts, real nginx with deploy/nginx/matomo-live.conf, real WebSocket clients.
// 300 rebalancing rounds stand for the 5 minutes after the screens settle (a round is made once a second).
import { gatewayConfigFrom, MemorySnapshots, startGateway, type RunningGateway } from '@matomo-live/test-support/gateway';
import { redisScope, uniquePrefix, type RedisScope } from '@matomo-live/test-support/redis';
import { TestClient } from '@matomo-live/test-support/ws-client';
import { RedisFleetRegistry } from '../../gateway/src/fleet/fleet-registry';
import { missingForNginx, SITE_CONTENT, startSiteNginx, type SiteNginx } from './site-nginx';

const ROUNDS = 300;
const missing = missingForNginx();
const describeWithNginx = missing.length === 0 ? describe : describe.skip;
if (missing.length > 0) console.warn(`SKIPPED deploy/test/small-fleet.e2e.test.ts: ${missing.join(', ')} not installed`);

interface Wall {
  gateways: RunningGateway[];
  screens: TestClient[];
  nginx: SiteNginx;
  stop(): Promise<void>;
}

let scope: RedisScope;
beforeAll(async () => {
  scope = await redisScope('small-fleet');
});
afterAll(async () => {
  await scope.close();
});

/** `gatewayCount` gateways sharing one fleet key, `screenCount` screens opened one after the other through nginx. */
async function startWall(gatewayCount: number, screenCount: number, env: Record<string, string> = {}): Promise<Wall> {
  const feed = new MemorySnapshots();
  await feed.publishContent(1, SITE_CONTENT, 1);
  const prefix = uniquePrefix('small-fleet');
  const config = gatewayConfigFrom({ PORT: '0', HOST: '127.0.0.1', VALID_TOKENS: 'wall-token-0123456789', DASHBOARD_DIR: 'off', ...env });
  const gateways: RunningGateway[] = [];
  for (let i = 0; i < gatewayCount; i++) {
    gateways.push(await startGateway(config, { feed, fleet: new RedisFleetRegistry(scope.command, prefix, 5000, `gw-${i}`) }));
  }
  const nginx = await startSiteNginx({ site: 'plain', upstreamPort: gateways.map((g) => Number(new URL(g.url).port)) });
  const screens: TestClient[] = [];
  for (let i = 0; i < screenCount; i++) {
    // One after the other, each live before the next: what a wall that is switched on does, and what least_conn balances.
    const screen = TestClient.connect(`ws://127.0.0.1:${nginx.httpPort}/ws?token=wall-token-0123456789`);
    await screen.nextMessages(1);
    screens.push(screen);
  }
  return {
    gateways,
    screens,
    nginx,
    stop: async () => {
      for (const screen of screens) screen.close();
      await nginx.stop();
      for (const gateway of gateways) await gateway.stop();
    },
  };
}

/** Rebalancing rounds on every gateway; the number of screens the fleet closed to move them. */
async function runRounds(wall: Wall, rounds: number): Promise<number> {
  for (let round = 0; round < rounds; round++) {
    for (const { gateway } of wall.gateways) await gateway.rebalancer!.tick();
  }
  let shed = 0;
  for (const { gateway } of wall.gateways) shed += (await gateway.metrics.rebalanceShed.get()).values[0]?.value ?? 0;
  return shed;
}

const split = (wall: Wall) => wall.gateways.map(({ gateway }) => gateway.connectionCount);

describeWithNginx('a small wall behind the shipped nginx site', () => {
  it.each([
    [3, 2],
    [7, 2],
    [30, 3],
  ])('%i screens on %i gateways: no rebalancing close in 300 rounds after they settle', async (screens, gatewayCount) => {
    const wall = await startWall(gatewayCount, screens);
    try {
      const before = split(wall);
      expect(before.reduce((a, b) => a + b)).toBe(screens);
      expect(Math.max(...before) - Math.min(...before)).toBeLessThanOrEqual(1); // least_conn spread them
      expect(await runRounds(wall, ROUNDS)).toBe(0);
      expect(wall.screens.filter((s) => s.closeCode !== undefined)).toEqual([]);
      expect(split(wall)).toEqual(before);
    } finally {
      await wall.stop();
    }
  });

  it('without the floor (REBALANCE_MIN_EXCESS=0) the same 3 screens are moved, round after round', async () => {
    const wall = await startWall(2, 3, { REBALANCE_MIN_EXCESS: '0' });
    try {
      expect(await runRounds(wall, 20)).toBeGreaterThan(0);
      await wall.screens[0]!.until(() => wall.screens.some((s) => s.closeCode === 1001), 'a screen closed by rebalancing');
    } finally {
      await wall.stop();
    }
  });
});
