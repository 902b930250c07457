/**
 * A wrong token against a real Matomo 5 whose brute-force detection is on
 * (its default: more than 20 failed logins from one IP within 60 minutes
 * block that IP for every request, even with a good token). The poller's
 * clock is driven by hand, so an hour of retries and several restarts take
 * seconds, and all their failed logins land inside Matomo's real 60-minute
 * window: the strictest case. Needs a Matomo of its own (it blocks 127.0.0.1
 * on purpose), so never an external one.
 */
import { decodeSnapshot } from '@matomo-live/protocol';
import { createRedisClient, loadPollerConfig } from '@matomo-live/shared';
import { capturedLogger, silentLogger } from '@matomo-live/test-support/logger';
import { singleNode } from '@matomo-live/test-support/redis-ha';
import {
  describeWithRealMatomo,
  realMatomoPlan,
  REAL_MATOMO_START_TIMEOUT_MS,
  startRealMatomo,
  type RealMatomo,
} from '@matomo-live/test-support/real-matomo';
import { createPoller, type Poller } from '../src/poller';
import { RedisSnapshotPublisher } from '../src/redis-publisher';
import { expectAuthBlocked, ManualClock, waitFor, watchRedis, type RedisWatch } from './support/harness';

// Real Matomo, real time: a test waits up to a minute for Matomo or the poller (beforeAll has its own, longer limit).
jest.setTimeout(180_000);

const plan = realMatomoPlan('bruteforce', { bruteForce: true });
const suite = describeWithRealMatomo(plan, "the poller's brute-force suite against a real Matomo 5");

const WRONG_TOKEN = '0123456789abcdef0123456789abcdef';
/** Matomo's limit: allowed while at most this many failures are recorded within 60 minutes. */
const MATOMO_MAX_FAILURES = 20;

let matomo: RealMatomo;
let watch: RedisWatch;
const running: Array<{ poller: Poller; close: () => void }> = [];

suite("the poller's auth back-off against a real Matomo 5 with brute-force detection on", () => {
  beforeAll(async () => {
    matomo = await startRealMatomo(plan as Exclude<typeof plan, { kind: 'skip' }>);
    matomo.sql('DELETE FROM matomo_brute_force_log');
    watch = await watchRedis([1]);
  }, REAL_MATOMO_START_TIMEOUT_MS);

  afterAll(async () => {
    await stopAll();
    // Leave the instance usable: no failures recorded, nothing blocked.
    matomo?.sql('DELETE FROM matomo_brute_force_log');
    await watch?.close();
    await matomo?.stop();
  }, 120_000);

  async function stopAll(): Promise<void> {
    for (const p of running.splice(0)) {
      await p.poller.stop();
      p.close();
    }
  }

  function startPoller(token: string, clock: ManualClock) {
    const config = loadPollerConfig(
      {
        MATOMO_URL: matomo.url,
        MATOMO_TOKEN: token,
        MATOMO_SITE_ID: '1',
        REDIS_URL: watch.url,
        REDIS_PREFIX: watch.prefix,
        POLLER_HEALTH_PORT: '0',
      },
      { dotenv: false },
    );
    const redis = createRedisClient(singleNode(watch.url), 'poller', { logger: silentLogger });
    const log = capturedLogger('info');
    // heartbeatMs 0: the only timer the clock holds is the tick's (the tests count them).
    const poller = createPoller({
      config,
      publisher: new RedisSnapshotPublisher(redis, watch.prefix),
      logger: log.logger,
      clock,
      timing: { heartbeatMs: 0 },
    });
    running.push({ poller, close: () => redis.disconnect() });
    return { poller, log, started: poller.start() };
  }

  const recordedFailures = () => Number(matomo.sql("SELECT COUNT(*) FROM matomo_brute_force_log WHERE ip_address = '127.0.0.1'"));

  test('an hour of a wrong token plus five restarts stays under 20 failed logins: the IP is never blocked, and the poller says authBlocked', async () => {
    // Timers of up to 50 ms run by themselves; the 5-minute auth retries wait for advance().
    const clock = new ManualClock(Date.now(), 50);
    const { poller, log, started } = startPoller(WRONG_TOKEN, clock);
    await started;
    await waitFor(() => poller.status().authBlocked, 'the first refusal', 30_000);
    expectAuthBlocked(poller, clock, log.lines, 'token-refused');
    // The rest of the hour: one attempt per 5 minutes.
    for (let attempt = 2; attempt <= 13; attempt++) {
      clock.advance(300_000);
      await waitFor(() => poller.status().requests === attempt && clock.pendingDelays()[0] === 300_000, `attempt ${attempt}`, 30_000);
    }
    expect(recordedFailures()).toBe(13);
    await stopAll();
    // Five restarts in the same hour (a crash loop, a rolling update): one attempt each.
    for (let restart = 1; restart <= 5; restart++) {
      const next = startPoller(WRONG_TOKEN, clock);
      await next.started;
      await waitFor(() => next.poller.status().authBlocked, `restart ${restart}`, 30_000);
      await stopAll();
    }
    expect(recordedFailures()).toBe(18);
    expect(recordedFailures()).toBeLessThanOrEqual(MATOMO_MAX_FAILURES);
    // Not blocked: the right token still works from this IP.
    expect(await matomo.api('API.getMatomoVersion')).toEqual({ value: expect.stringMatching(/^5\./) });
  });

  test('once Matomo blocks the IP, the poller reports authBlocked (ip-blocked) even with the right token, and recovers when unblocked', async () => {
    // Block the IP on purpose: wrong tokens until Matomo records more than 20 failures.
    for (let i = recordedFailures(); i <= MATOMO_MAX_FAILURES; i++) {
      await fetch(`${matomo.url}index.php?module=API&method=API.getMatomoVersion&format=json`, {
        method: 'POST',
        body: new URLSearchParams({ token_auth: WRONG_TOKEN }),
      });
    }
    expect(recordedFailures()).toBe(MATOMO_MAX_FAILURES + 1);
    await expect(matomo.api('API.getMatomoVersion')).rejects.toThrow(/HTTP 500.*Too many failed logins/);
    const clock = new ManualClock(Date.now(), 50);
    const { poller, log, started } = startPoller(matomo.token, clock);
    await started;
    await waitFor(() => poller.status().authBlocked, 'the block to be seen', 30_000);
    expectAuthBlocked(poller, clock, log.lines, 'ip-blocked');
    expect(watch.messages()).toHaveLength(0);
    // Blocked requests are not recorded: the block does not extend itself.
    expect(recordedFailures()).toBe(MATOMO_MAX_FAILURES + 1);
    matomo.console(['login:unblock-blocked-ips']);
    clock.advance(300_000);
    await waitFor(() => watch.messages().length > 0, 'a snapshot once unblocked', 60_000);
    const decoded = decodeSnapshot(watch.messages()[0]!);
    expect('snapshot' in decoded && decoded.snapshot.timezone).toBe('Asia/Tokyo');
    expect(poller.status()).toMatchObject({ authBlocked: false, authBlockedReason: null });
  });
});
