import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { asStatusMessage, STALE_REASON_TEXT, STALE_REASONS, type StatusMessage } from '@matomo-live/protocol';
import { REPO_ROOT } from '@matomo-live/test-support/processes';
import { encodeHeartbeat, InMemorySnapshotBus, type SiteHeartbeat } from '@matomo-live/shared';
import { silentLogger } from '@matomo-live/test-support/logger';
import { startGateway, type RunningGateway } from '@matomo-live/test-support/gateway';
import { waitFor } from '@matomo-live/test-support/wait-for';
import { GatewayMetrics } from '../../src/metrics/gateway-metrics';
import type { FramedMessage } from '../../src/sessions/broadcast-writer';
import { StatusHub } from '../../src/snapshots/status-hub';
import { ManualClock } from '../support/manual-clock';
import { httpGet, redisWorld, TestClient, testConfig, TOKEN } from '../support/harness';

const beat = (site: number, over: Partial<SiteHeartbeat> = {}): Buffer =>
  encodeHeartbeat({ site, fetch_interval_ms: 1000, data_age_ms: 0, trouble: null, ...over });

function recorder() {
  const got: FramedMessage[] = [];
  return {
    got,
    deliverStatus: (m: FramedMessage) => got.push(m),
    statuses: () => got.map((m) => JSON.parse(m.payload.toString()) as StatusMessage),
  };
}

/** The Prometheus sample `line`'s value, or undefined when there is no such series. */
function sample(text: string, line: string): number | undefined {
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found === undefined ? undefined : Number(found.slice(line.length + 1));
}

describe('StatusHub', () => {
  function hubOn(siteIds: number[], clock: ManualClock) {
    const bus = new InMemorySnapshotBus(() => clock.now());
    const watched: number[] = [];
    const feed = Object.assign(Object.create(bus) as InMemorySnapshotBus, {
      watchHeartbeat: (siteId: number, onHeartbeat: (bytes: Buffer) => void) => {
        watched.push(siteId);
        return bus.watchHeartbeat(siteId, onHeartbeat);
      },
    });
    const metrics = new GatewayMetrics();
    const hub = new StatusHub({ siteIds, clock, logger: silentLogger, encode: (p) => Buffer.concat([Buffer.from('#'), p]), metrics });
    return { bus, feed, hub, metrics, watched };
  }

  it('watches the served sites only, and hears the stored heartbeat at once', async () => {
    const clock = new ManualClock(1_000);
    const { bus, feed, hub, watched } = hubOn([1, 2], clock);
    await bus.publishHeartbeat(1, beat(1, { data_age_ms: 300 }), 15_000);
    await bus.publishHeartbeat(9, beat(9), 15_000);
    hub.watch(feed);
    expect(watched).toEqual([1, 2]);
    await waitFor(() => hub.status(1) !== undefined, 'the stored heartbeat heard');
    expect(hub.status(1)).toEqual({ type: 'status', site: 1, state: 'live', reason: null, data_age_ms: 300, stale_after_ms: 15_000 });
    expect(hub.status(2)).toBeUndefined();
    expect(hub.status(9)).toBeUndefined();
    hub.close();
  });

  it('frames each change once for every subscriber of the site, and nothing for other sites', async () => {
    const clock = new ManualClock(0);
    const { bus, feed, hub } = hubOn([1, 2], clock);
    hub.watch(feed);
    const [a, b, other] = [recorder(), recorder(), recorder()];
    hub.join(1, a);
    hub.join(1, b);
    hub.join(2, other);
    await bus.publishHeartbeat(1, beat(1), 15_000);
    await bus.publishHeartbeat(1, beat(1, { data_age_ms: 700 }), 15_000);
    await bus.publishHeartbeat(1, beat(1, { trouble: 'live_disabled' }), 15_000);
    expect(a.statuses().map((s) => [s.state, s.reason])).toEqual([
      ['live', null],
      ['stale', 'live_disabled'],
    ]);
    // One buffer per change, shared: the same objects went to both.
    expect(b.got).toHaveLength(2);
    for (const [i, m] of a.got.entries()) {
      expect(b.got[i]!.frame).toBe(m.frame);
      expect(m.frame.toString()).toBe(`#${m.payload.toString()}`);
    }
    expect(a.got[1]!.payload.toString()).toBe(
      '{"type":"status","site":1,"state":"stale","reason":"live_disabled","data_age_ms":0,"stale_after_ms":15000}',
    );
    expect(other.got).toEqual([]);
    // Site 2 has been silent for 15 s: its own change, to its own subscriber.
    clock.advance(15_000);
    expect(other.statuses()).toEqual([
      { type: 'status', site: 2, state: 'stale', reason: 'poller_silent', data_age_ms: null, stale_after_ms: 15_000 },
    ]);
    hub.close();
  });

  it('gives a joining subscriber the current status at once (age as of now), or the first one once known', async () => {
    const clock = new ManualClock(0);
    const { bus, feed, hub } = hubOn([1], clock);
    hub.watch(feed);
    const early = recorder();
    hub.join(1, early);
    expect(early.got).toEqual([]);
    await bus.publishHeartbeat(1, beat(1, { data_age_ms: 1_000 }), 15_000);
    expect(early.statuses()).toMatchObject([{ state: 'live', data_age_ms: 1_000 }]);
    clock.advance(2_500);
    const late = recorder();
    const membership = hub.join(1, late);
    expect(late.statuses()).toEqual([{ type: 'status', site: 1, state: 'live', reason: null, data_age_ms: 3_500, stale_after_ms: 15_000 }]);
    expect(early.got).toHaveLength(1);
    membership.leave();
    await bus.publishHeartbeat(1, beat(1, { trouble: 'publish_failing' }), 15_000);
    expect(early.got).toHaveLength(2);
    expect(late.got).toHaveLength(1);
    hub.close();
  });

  it('keeps site_stale{site} and site_stale_reason{site,reason} with the status, and stops its timers on close', async () => {
    const clock = new ManualClock(0);
    const { bus, feed, hub, metrics } = hubOn([1], clock);
    hub.watch(feed);
    const text = () => metrics.registry.metrics();
    expect(sample(await text(), 'matomo_live_gateway_site_stale{site="1"}')).toBeUndefined();
    await bus.publishHeartbeat(1, beat(1, { trouble: 'matomo_unreachable' }), 15_000);
    expect(sample(await text(), 'matomo_live_gateway_site_stale{site="1"}')).toBe(1);
    expect(sample(await text(), 'matomo_live_gateway_site_stale_reason{site="1",reason="matomo_unreachable"}')).toBe(1);
    await bus.publishHeartbeat(1, beat(1, { trouble: 'auth_refused' }), 15_000);
    expect(sample(await text(), 'matomo_live_gateway_site_stale_reason{site="1",reason="matomo_unreachable"}')).toBeUndefined();
    expect(sample(await text(), 'matomo_live_gateway_site_stale_reason{site="1",reason="auth_refused"}')).toBe(1);
    await bus.publishHeartbeat(1, beat(1), 15_000);
    expect(sample(await text(), 'matomo_live_gateway_site_stale{site="1"}')).toBe(0);
    expect(await text()).not.toContain('matomo_live_gateway_site_stale_reason{');
    expect(clock.timers.size).toBe(1);
    hub.close();
    expect(clock.timers.size).toBe(0);
  });
});

describe('docs/PROTOCOL.md, "Status messages"', () => {
  it('lists every reason with its STALE_REASON_TEXT', () => {
    const docs = readFileSync(join(REPO_ROOT, 'docs', 'PROTOCOL.md'), 'utf8');
    const section = docs.slice(docs.indexOf('| `reason` | text (`STALE_REASON_TEXT`) |'), docs.indexOf('## Keep-alive'));
    const [header, ...rows] = [...section.matchAll(/^\| `([a-z_]+)` \| ([^|]+?) \|/gm)].map((m) => [m[1], m[2]]);
    expect(header).toEqual(['reason', 'text (`STALE_REASON_TEXT`)']);
    expect(rows).toEqual(STALE_REASONS.map((reason) => [reason, STALE_REASON_TEXT[reason]]));
  });
});

describe('status messages through a real gateway (real Redis, real WebSocket clients)', () => {
  type World = Awaited<ReturnType<typeof redisWorld>>;
  let world: World;
  const running: RunningGateway[] = [];
  const clients: TestClient[] = [];

  beforeEach(async () => {
    world = await redisWorld('status');
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) c.ws.terminate();
    for (const g of running.splice(0)) await g.stop();
    await world.close();
  });

  async function gateway(): Promise<RunningGateway> {
    const g = await startGateway(testConfig(world.prefix, world.url));
    running.push(g);
    await waitFor(() => g.gateway.isReady(), 'gateway ready');
    return g;
  }

  function connect(url: string): TestClient {
    const c = TestClient.connect(url);
    clients.push(c);
    return c;
  }

  const statusesOf = (c: TestClient): StatusMessage[] =>
    c.messages.map((m) => asStatusMessage(JSON.parse(m))).filter((s): s is StatusMessage => s !== undefined);
  const untilStatus = (c: TestClient, count: number, what: string, timeoutMs?: number) =>
    c.until(() => statusesOf(c).length >= count, what, timeoutMs);

  it('sends live, stale (matomo_unreachable), live to ?status=1 clients, the current one to a late joiner, and nothing new to others', async () => {
    const first = await world.publisher.store(1, 1);
    const g = await gateway();
    await world.publisher.publishHeartbeat(1, beat(1, { data_age_ms: 200 }));
    const opted = connect(`${g.url}?token=${TOKEN}&status=1`);
    const plain = connect(`${g.url}?token=${TOKEN}`);
    const refusedStatus = connect(`${g.url}?token=${TOKEN}&status=yes`);
    await untilStatus(opted, 1, 'the live status');
    expect(opted.messages[0]).toBe(first.toString());
    expect(statusesOf(opted)[0]).toMatchObject({ type: 'status', site: 1, state: 'live', reason: null, stale_after_ms: 15_000 });

    await world.publisher.publishHeartbeat(1, beat(1, { trouble: 'matomo_unreachable', data_age_ms: 3_000 }));
    await untilStatus(opted, 2, 'the stale status');
    expect(statusesOf(opted)[1]).toMatchObject({ state: 'stale', reason: 'matomo_unreachable', stale_after_ms: 15_000 });
    expect(statusesOf(opted)[1]!.data_age_ms).toBeGreaterThanOrEqual(3_000);
    // Repeats of the same trouble are no news.
    await world.publisher.publishHeartbeat(1, beat(1, { trouble: 'matomo_unreachable', data_age_ms: 4_000 }));

    // A client joining now gets the current status at once, with no heartbeat to trigger it.
    const late = connect(`${g.url}?token=${TOKEN}&status=true`);
    await untilStatus(late, 1, "the late joiner's status");
    expect(late.messages[0]).toBe(first.toString());
    expect(statusesOf(late)).toMatchObject([{ state: 'stale', reason: 'matomo_unreachable' }]);

    expect(await refusedStatus.closed).toEqual({ code: 1008, reason: 'Policy violation' });
    expect(refusedStatus.messages).toEqual([]);
    // Stale data does not make the gateway unready; the metrics say it.
    expect((await httpGet(g.port, '/readyz')).status).toBe(200);
    const metrics = (await httpGet(g.port, '/metrics')).body;
    expect(sample(metrics, 'matomo_live_gateway_site_stale{site="1"}')).toBe(1);
    expect(sample(metrics, 'matomo_live_gateway_site_stale_reason{site="1",reason="matomo_unreachable"}')).toBe(1);
    expect(sample(metrics, 'matomo_live_gateway_auth_failures_total{reason="bad-status"}')).toBe(1);

    await world.publisher.publishHeartbeat(1, beat(1, { data_age_ms: 100 }));
    await untilStatus(opted, 3, 'live again');
    await untilStatus(late, 2, 'live again (late joiner)');
    expect(statusesOf(opted).map((s) => [s.state, s.reason])).toEqual([
      ['live', null],
      ['stale', 'matomo_unreachable'],
      ['live', null],
    ]);
    expect(statusesOf(late).map((s) => s.state)).toEqual(['stale', 'live']);

    // A snapshot after all that: what the client without status= got before it is all it got.
    const second = await world.publisher.publish(1, 2);
    await plain.nextMessages(2);
    await opted.until(() => opted.messages.includes(second.toString()), 'the snapshot');
    expect(plain.messages).toEqual([first.toString(), second.toString()]);
    expect(sample((await httpGet(g.port, '/metrics')).body, 'matomo_live_gateway_site_stale{site="1"}')).toBe(0);
  });

  it('says poller_silent once heartbeats stop for stale_after_ms (15 s), and live when they come back', async () => {
    await world.publisher.store(1, 1);
    const g = await gateway();
    await world.publisher.publishHeartbeat(1, beat(1, { fetch_interval_ms: 200 }), 15_000);
    const opted = connect(`${g.url}?token=${TOKEN}&status=1`);
    await untilStatus(opted, 1, 'the live status');
    const liveAt = Date.now();
    expect(statusesOf(opted)[0]).toMatchObject({ state: 'live', stale_after_ms: 15_000 });
    await untilStatus(opted, 2, 'poller_silent', 30_000);
    expect(Date.now() - liveAt).toBeGreaterThan(13_000);
    expect(statusesOf(opted)[1]).toMatchObject({ state: 'stale', reason: 'poller_silent', stale_after_ms: 15_000 });
    expect((await httpGet(g.port, '/readyz')).status).toBe(200);
    await world.publisher.publishHeartbeat(1, beat(1, { fetch_interval_ms: 200 }));
    await untilStatus(opted, 3, 'live again');
    expect(statusesOf(opted).map((s) => [s.state, s.reason])).toEqual([
      ['live', null],
      ['stale', 'poller_silent'],
      ['live', null],
    ]);
  }, 60_000);
});
