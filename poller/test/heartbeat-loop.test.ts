import { staleAfterMs } from '@matomo-live/protocol';
import { createRedisClient, decodeHeartbeat, InMemorySnapshotBus, type SiteHeartbeat } from '@matomo-live/shared';
import { capturedLogger, silentLogger } from '@matomo-live/test-support/logger';
import { spawnRedisServer } from '@matomo-live/test-support/redis';
import { singleNode } from '@matomo-live/test-support/redis-ha';
import { HeartbeatLoop, type HeartbeatLoopDeps } from '../src/heartbeat-loop';
import { RedisSnapshotPublisher } from '../src/redis-publisher';
import { createSiteState, noteAttempt, type SiteState } from '../src/site-state';
import { ManualClock, waitFor } from './support/harness';

const START = Date.UTC(2024, 6, 4, 16, 0, 0);

let clock: ManualClock;
let bus: InMemorySnapshotBus;
let sites: Map<number, SiteState>;
let heard: Map<number, SiteHeartbeat[]>;
const loops: HeartbeatLoop[] = [];

/** A site this process leads (for an hour of the test's clock), tried once and published. */
function ledSite(): SiteState {
  const s = createSiteState(5, true);
  s.leaderUntil = START + 3_600_000;
  s.visits.succeed(true, START);
  noteAttempt(s, START, undefined);
  return s;
}

beforeEach(async () => {
  clock = new ManualClock(START); // every timer waits for advance()
  bus = new InMemorySnapshotBus(clock.now);
  sites = new Map([
    [1, ledSite()],
    [2, createSiteState(5, true)], // standby
    [3, ledSite()],
  ]);
  heard = new Map();
  for (const siteId of sites.keys()) {
    heard.set(siteId, []);
    await bus.watchHeartbeat(siteId, (bytes) => {
      const decoded = decodeHeartbeat(bytes);
      if ('heartbeat' in decoded) heard.get(siteId)!.push(decoded.heartbeat);
    });
  }
});
afterEach(async () => {
  for (const loop of loops.splice(0)) await loop.stop();
});

function startLoop(deps: Partial<HeartbeatLoopDeps> = {}): HeartbeatLoop {
  const loop = new HeartbeatLoop({
    publisher: bus,
    sites,
    clock,
    log: silentLogger,
    fetchIntervalMs: 1000,
    periodMs: 1000,
    authBlocked: () => false,
    ...deps,
  });
  loops.push(loop);
  loop.start();
  return loop;
}

const counts = () => [...heard].map(([siteId, list]) => [siteId, list.length]);

describe('HeartbeatLoop', () => {
  it('a round sends one heartbeat per led site, none for a standby, stored for the stale threshold', async () => {
    const loop = startLoop();
    loop.beat();
    await waitFor(() => heard.get(3)!.length === 1, 'the first round');
    expect(counts()).toEqual([
      [1, 1],
      [2, 0],
      [3, 1],
    ]);
    expect(heard.get(1)![0]).toEqual({ site: 1, fetch_interval_ms: 1000, data_age_ms: 0, trouble: null });
    // The bus keeps it for staleAfterMs(FETCH_INTERVAL) = 15 s, and not a moment longer (no further rounds meanwhile).
    await loop.stop();
    clock.advance(staleAfterMs(1000) - 1);
    expect(await bus.watchHeartbeat(1, () => {})).not.toBeNull();
    clock.advance(1);
    expect(await bus.watchHeartbeat(1, () => {})).toBeNull();
  });

  it('on its own timer every period when no tick asks, the data ageing; a beat restarts the period', async () => {
    const loop = startLoop();
    expect(clock.pendingDelays()).toEqual([1000]);
    clock.advance(999);
    expect(counts()).toEqual([
      [1, 0],
      [2, 0],
      [3, 0],
    ]);
    clock.advance(1);
    await waitFor(() => clock.pendingDelays().length === 1, 'the round and the next period');
    clock.advance(1000);
    await waitFor(() => heard.get(1)!.length === 2 && clock.pendingDelays().length === 1, 'the second round');
    expect(heard.get(1)!.map((h) => h.data_age_ms)).toEqual([1000, 2000]);
    clock.advance(400);
    loop.beat(); // after a tick: sent now, the next timer round a whole period later
    await waitFor(() => heard.get(1)!.length === 3 && clock.pendingDelays().length === 1, 'the beat');
    expect(clock.pendingDelays()).toEqual([1000]);
  });

  it('reports the trouble of the latest attempt, and auth_refused while auth is blocked', async () => {
    let authBlocked = false;
    const loop = startLoop({ authBlocked: () => authBlocked });
    noteAttempt(sites.get(1)!, START, { kind: 'timeout', message: 'no answer in time' });
    loop.beat();
    await waitFor(() => heard.get(3)!.length === 1, 'the first round');
    authBlocked = true;
    clock.advance(1000);
    await waitFor(() => heard.get(3)!.length === 2, 'the timer round');
    expect([...heard.get(1)!, ...heard.get(3)!].map((h) => h.trouble)).toEqual([
      'matomo_unreachable',
      'auth_refused',
      null,
      'auth_refused',
    ]);
  });

  it('one round at a time: beats asked for meanwhile make one more round after it', async () => {
    let release: () => void = () => {};
    let publishes = 0;
    const slow = {
      publishHeartbeat: async (siteId: number, bytes: Buffer, ttlMs: number) => {
        publishes++;
        if (publishes === 1) await new Promise<void>((resolve) => (release = resolve));
        await bus.publishHeartbeat(siteId, bytes, ttlMs);
      },
    };
    sites.delete(3);
    const loop = startLoop({ publisher: slow });
    loop.beat();
    await waitFor(() => publishes === 1, 'the first publish');
    loop.beat();
    loop.beat();
    clock.advance(1000); // no timer while a round is in flight: it is armed when the round ends
    expect(publishes).toBe(1);
    release();
    await waitFor(() => heard.get(1)!.length === 2 && clock.pendingDelays().length === 1, 'the round that followed');
    expect(publishes).toBe(2);
  });

  it('stop() ends the timer and waits for the round in flight; nothing after', async () => {
    const loop = startLoop();
    loop.beat();
    await loop.stop();
    expect(heard.get(1)).toHaveLength(1);
    expect(clock.pendingDelays()).toEqual([]);
    loop.beat();
    clock.advance(10_000);
    expect(heard.get(1)).toHaveLength(1);
  });

  it('period 0: rounds after beats only', async () => {
    const loop = startLoop({ periodMs: 0 });
    expect(clock.pendingDelays()).toEqual([]);
    loop.beat();
    await waitFor(() => heard.get(1)!.length === 1, 'the beat');
    expect(clock.pendingDelays()).toEqual([]);
  });

  it('a Redis that is down: never throws, counts errors, one warning per streak and one line when it works again', async () => {
    const redis = await spawnRedisServer();
    const client = createRedisClient(singleNode(redis.url), 'poller', { logger: silentLogger });
    const log = capturedLogger();
    const results: string[] = [];
    try {
      await waitFor(() => client.status === 'ready', 'the connection');
      const publisher = new RedisSnapshotPublisher(client, 'hb-loop:');
      const loop = startLoop({ publisher, log: log.logger, onPublished: (r) => results.push(r) });
      const roundsDone = async (n: number) => {
        for (let i = 0; i < n; i++) {
          const before = results.length;
          clock.advance(1000);
          await waitFor(() => results.length === before + 2 && clock.pendingDelays().length === 1, 'a round');
        }
      };
      await roundsDone(1);
      expect(await client.pttl('{hb-loop:site:1}:heartbeat')).toBeGreaterThan(14_000);
      await redis.stop();
      await waitFor(() => client.status !== 'ready', 'the connection to drop');
      await roundsDone(4);
      await redis.start();
      await waitFor(() => client.status === 'ready', 'the connection back', 20_000);
      await roundsDone(2);
      expect(results).toEqual([...Array(2).fill('ok'), ...Array(8).fill('error'), ...Array(4).fill('ok')]);
      const said = log.lines().filter((l) => String(l.msg).startsWith('heartbeat'));
      expect(said.map((l) => [l.level, l.msg])).toEqual([
        [40, 'heartbeat not published (Redis unreachable?); retrying'],
        [30, 'heartbeats published again'],
      ]);
      expect(said[0]).toMatchObject({ sites: [1, 3], retryMs: 1000 });
      expect(said[1]).toMatchObject({ failedRounds: 4 });
      await loop.stop();
    } finally {
      client.disconnect();
      await redis.stop();
    }
  });
});
