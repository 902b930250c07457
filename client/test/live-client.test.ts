import { SignJWT } from 'jose';
import { WebSocket } from 'ws';
import {
  ClientCloseCode,
  CloseCode,
  LiveClient,
  type LiveClientOptions,
  type Snapshot,
  type StatusEvent,
  type StatusMessage,
  type WebSocketConstructor,
} from '@matomo-live/client';
import { gatewayConfigFrom, MemorySnapshots, startGateway, type RunningGateway } from '@matomo-live/test-support/gateway';
import { contentDigest, encodeHeartbeat, encodeSnapshot } from '@matomo-live/shared';
import { waitFor } from '@matomo-live/test-support/wait-for';
import { ManualClock } from './support/manual-clock';
import { frame, ScriptedServer } from './support/scripted-server';
import { snapshotContent } from './support/snapshot-content';

const NodeWebSocket = WebSocket as unknown as WebSocketConstructor;

/** A started client that records what it emits. */
function recordingClient(options: LiveClientOptions) {
  const client = new LiveClient({ WebSocket: NodeWebSocket, ...options });
  const seqs: number[] = [];
  const statuses: StatusEvent[] = [];
  client.on('snapshot', (snapshot: Snapshot) => seqs.push(snapshot.seq));
  client.on('status', (status) => statuses.push(status));
  client.start();
  return { client, seqs, statuses };
}

describe('LiveClient against a scripted ws server', () => {
  let server: ScriptedServer | undefined;
  let client: LiveClient | undefined;
  afterEach(async () => {
    client?.close();
    await server?.close();
    client = server = undefined;
  });

  it('sends site, fields and the token as a subprotocol, never in the URL', async () => {
    server = await ScriptedServer.start((c) => c.socket.send(frame(1)));
    const run = recordingClient({ url: server.url, token: 'tok', site: 3, fields: ['summary', 'counters'] });
    client = run.client;
    await waitFor(() => run.seqs.length === 1, 'the first snapshot');
    const [connection] = server.connections;
    expect(connection?.protocols).toEqual(['matomo-live.v1', 'token.tok']);
    expect(connection?.url).toBe('/ws?site=3&fields=summary%2Ccounters&status=1');
    expect(run.statuses.map((s) => s.state)).toEqual(['connecting', 'live']);
  });

  it('drops duplicate seqs within a connection, follows a lower one as a reset, and ignores junk frames', async () => {
    server = await ScriptedServer.start((c) => {
      for (const message of [frame(5), frame(5), 'not json', '{"type":"pong"}', '{"seq":"7"}', frame(6), frame(6), frame(3), frame(8)])
        c.socket.send(message);
    });
    const run = recordingClient({ url: server.url, token: 'tok' });
    client = run.client;
    await waitFor(() => run.seqs.includes(8), 'seq 8');
    expect(run.seqs).toEqual([5, 6, 3, 8]);
    expect(client.snapshot?.seq).toBe(8);
  });

  it('after a reconnect drops the resent current snapshot and accepts a lower seq as a reset', async () => {
    const script: string[][] = [
      [frame(10), frame(11)],
      [frame(11), frame(12)],
      [frame(2), frame(3)],
    ];
    server = await ScriptedServer.start((c, index) => {
      for (const message of script[index] ?? []) c.socket.send(message);
      if (index < 2) setImmediate(() => c.socket.close(CloseCode.GoingAway, 'restart'));
    });
    const run = recordingClient({ url: server.url, token: 'tok', initialBackoffMs: 50 });
    client = run.client;
    await waitFor(() => run.seqs.includes(3), 'the reset stream');
    expect(run.seqs).toEqual([10, 11, 12, 2, 3]);
    expect(run.statuses.filter((s) => s.state === 'reconnecting').map((s) => s.code)).toEqual([1001, 1001]);
  });

  it('pings after silence and reconnects when no pong comes back', async () => {
    server = await ScriptedServer.start((c, index) => {
      c.socket.send(frame(index + 1));
      // The first connection goes silent (a dead peer); the second answers pings.
      if (index > 0) c.socket.on('message', (data) => data.toString() === '{"type":"ping"}' && c.socket.send('{"type":"pong"}'));
    });
    const run = recordingClient({ url: server.url, token: 'tok', idleTimeoutMs: 150, pongTimeoutMs: 150, initialBackoffMs: 50 });
    client = run.client;
    await waitFor(() => run.seqs.includes(2), 'the second connection');
    expect(server.connections[0]?.received).toContain('{"type":"ping"}');
    const dead = run.statuses.find((s) => s.state === 'reconnecting');
    expect(dead?.code).toBe(ClientCloseCode.DeadConnection);
    // The live connection answers its pings, so it is kept.
    await waitFor(() => (server?.connections[1]?.received.length ?? 0) >= 2, 'two pings on the healthy connection');
    expect(server.connections).toHaveLength(2);
    expect(run.statuses.at(-1)?.state).toBe('live');
  });

  it('backs off with growing, jittered, capped delays while connections fail', async () => {
    // Accepts, then closes at once (capacity): the attempts must not reset to the first delay.
    server = await ScriptedServer.start((c) => c.socket.close(CloseCode.TryAgainLater, 'full'));
    const clock = new ManualClock();
    const draws = [0.5, 0.999, 0, 0.25, 0.9, 0.9];
    const run = recordingClient({ url: server.url, token: 'tok', clock, random: () => draws.shift() ?? 0.5 });
    client = run.client;
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 6; attempt += 1) {
      await waitFor(() => run.statuses.filter((s) => s.state === 'reconnecting').length === attempt, `failure ${attempt}`);
      expect(clock.pendingDelays()).toHaveLength(1);
      delays.push(clock.runNext());
    }
    expect(delays).toEqual([500, 1998, 0, 2000, 9000, 9000]);
    expect(run.statuses.filter((s) => s.state === 'reconnecting').map((s) => [s.attempt, s.code, s.retryInMs])).toEqual([
      [1, 1013, 500],
      [2, 1013, 1998],
      [3, 1013, 0],
      [4, 1013, 2000],
      [5, 1013, 9000],
      [6, 1013, 9000],
    ]);
    await waitFor(() => server?.connections.length === 7, 'the seventh attempt');
  });

  it('stops retrying when the server closes with 4001 and reports the auth failure', async () => {
    server = await ScriptedServer.start((c) => c.socket.close(4001, 'Invalid token'));
    const clock = new ManualClock();
    const run = recordingClient({ url: server.url, token: 'wrong', clock });
    client = run.client;
    const closed = await waitFor(() => run.statuses.find((s) => s.state === 'closed'), 'the closed status');
    expect(closed).toMatchObject({ state: 'closed', code: 4001, reason: 'Invalid token', authFailed: true });
    expect(clock.pending.size).toBe(0);
    expect(server.connections).toHaveLength(1);
  });

  it('reconnects with backoff after a close code it does not know (a newer server), instead of stopping', async () => {
    server = await ScriptedServer.start((c) => c.socket.close(4099, 'Something new'));
    const clock = new ManualClock();
    const run = recordingClient({ url: server.url, token: 'tok', clock, random: () => 0.5 });
    client = run.client;
    const reconnecting = await waitFor(() => run.statuses.find((s) => s.state === 'reconnecting'), 'the reconnecting status');
    expect(reconnecting).toMatchObject({ code: 4099, reason: 'Something new', retryInMs: 500 });
    expect(reconnecting.authFailed).toBeUndefined();
    expect(run.statuses.some((s) => s.state === 'closed')).toBe(false);
    expect(clock.pending.size).toBe(1);
  });

  it('waits exactly the reconnect hint of a close frame (1001, 1013) instead of its own backoff, and keeps its backoff without one', async () => {
    const closes: Array<[number, string]> = [
      [1001, '{"retry_after_ms":4321,"cause":"rebalance"}'],
      [1013, '{"retry_after_ms":1500,"cause":"overload"}'],
      [1001, 'Server going away'],
    ];
    server = await ScriptedServer.start((c) => {
      const [code, reason] = closes.shift() ?? [1000, 'done'];
      c.socket.close(code, reason);
    });
    const clock = new ManualClock();
    const run = recordingClient({ url: server.url, token: 'tok', clock, random: () => 0.5 });
    client = run.client;
    const reconnects = () => run.statuses.filter((s) => s.state === 'reconnecting');
    await waitFor(() => reconnects().length === 1, 'the first close');
    expect(reconnects()[0]).toMatchObject({ code: 1001, retryInMs: 4321, retryFromServer: true });
    expect(clock.pendingDelays()).toEqual([4321]);
    clock.runNext();
    await waitFor(() => reconnects().length === 2, 'the second close');
    expect(reconnects()[1]).toMatchObject({ code: 1013, retryInMs: 1500, retryFromServer: true });
    expect(clock.pendingDelays()).toEqual([1500]);
    clock.runNext();
    await waitFor(() => reconnects().length === 3, 'the third close');
    // No hint: its own full-jitter backoff (third attempt: ceiling 4000 ms, half of it with random 0.5).
    expect(reconnects()[2]).toMatchObject({ code: 1001, reason: 'Server going away', retryInMs: 2000 });
    expect(reconnects()[2]!.retryFromServer).toBeUndefined();
  });

  it('starts again with a fresh token after an auth failure', async () => {
    server = await ScriptedServer.start((c) =>
      c.protocols.includes('token.fresh') ? c.socket.send(frame(1)) : c.socket.close(4002, 'Token expired'),
    );
    const run = recordingClient({ url: server.url, token: 'old' });
    client = run.client;
    await waitFor(() => run.statuses.some((s) => s.authFailed), 'the expiry');
    expect(() => client?.setToken('not a token')).toThrow(/subprotocol/);
    client.setToken('fresh');
    client.start();
    await waitFor(() => run.seqs.length === 1, 'a snapshot with the fresh token');
    expect(server.connections.map((c) => c.protocols[1])).toEqual(['token.old', 'token.fresh']);
  });

  it('with a token provider, takes a fresh token for every connection and reconnects after 4002 instead of stopping', async () => {
    server = await ScriptedServer.start((c) =>
      c.protocols.includes('token.t1') ? c.socket.close(4002, 'Token expired') : c.socket.send(frame(1)),
    );
    let issued = 0;
    const run = recordingClient({ url: server.url, token: async () => `t${++issued}`, initialBackoffMs: 50 });
    client = run.client;
    await waitFor(() => run.seqs.length === 1, 'a snapshot on the second connection');
    expect(server.connections.map((c) => c.protocols[1])).toEqual(['token.t1', 'token.t2']);
    expect(run.statuses.some((s) => s.authFailed)).toBe(false);
    expect(run.statuses.find((s) => s.state === 'reconnecting')).toMatchObject({ code: 4002 });
  });

  it('with a token provider that fails, counts a failed attempt and tries again', async () => {
    server = await ScriptedServer.start((c) => c.socket.send(frame(1)));
    let calls = 0;
    const run = recordingClient({
      url: server.url,
      token: () => {
        calls += 1;
        if (calls === 1) throw new Error('auth server down');
        return 'tok';
      },
      initialBackoffMs: 50,
    });
    client = run.client;
    await waitFor(() => run.seqs.length === 1, 'a snapshot after the provider recovered');
    expect(run.statuses.find((s) => s.state === 'reconnecting')?.reason).toBe('token provider failed: auth server down');
    expect(server.connections).toHaveLength(1);
  });

  it('with events, emits visits once in order and resumes every reconnect with since=<last id>', async () => {
    const event = (id: string) => JSON.stringify({ type: 'visit', site: 1, id, visit: { idVisit: Number(id.split('-')[0]), actions: 1 } });
    const script: string[][] = [
      [frame(1), JSON.stringify({ type: 'events_reset', site: 1, id: '9-0', reason: 'start' }), event('10-0'), event('11-0')],
      // A gateway that repeats one (it must not reach the application) and continues.
      [frame(1), event('11-0'), event('12-0')],
      [frame(1), event('13-0')],
    ];
    server = await ScriptedServer.start((c, index) => {
      for (const message of script[index] ?? []) c.socket.send(message);
      if (index < 2) setImmediate(() => c.socket.close(CloseCode.GoingAway, 'restart'));
    });
    const visits: string[] = [];
    const resets: string[] = [];
    const run = recordingClient({ url: server.url, token: 'tok', events: 'visits', rewind: 50, initialBackoffMs: 50 });
    client = run.client;
    client.on('visit', (e) => visits.push(e.id));
    client.on('events_reset', (e) => resets.push(`${e.reason}@${e.id}`));
    await waitFor(() => visits.includes('13-0'), 'event 13-0');
    expect(visits).toEqual(['10-0', '11-0', '12-0', '13-0']);
    expect(resets).toEqual(['start@9-0']);
    expect(client.lastEventId).toBe('13-0');
    // The first connection rewinds; every later one resumes after the last event delivered.
    expect(server.connections.map((c) => c.url)).toEqual([
      '/ws?events=visits&rewind=50&status=1',
      '/ws?events=visits&since=11-0&status=1',
      '/ws?events=visits&since=12-0&status=1',
    ]);
  });

  it('without the events option, ignores event messages as any control frame', async () => {
    server = await ScriptedServer.start((c) => {
      c.socket.send(JSON.stringify({ type: 'visit', site: 1, id: '1-0', visit: {} }));
      c.socket.send(frame(2));
    });
    const visits: unknown[] = [];
    const run = recordingClient({ url: server.url, token: 'tok' });
    client = run.client;
    client.on('visit', (e) => visits.push(e));
    await waitFor(() => run.seqs.length === 1, 'the snapshot');
    expect(visits).toEqual([]);
    expect(server.connections[0]?.url).toBe('/ws?status=1');
  });

  it('close() stops for good', async () => {
    server = await ScriptedServer.start((c) => c.socket.send(frame(1)));
    const run = recordingClient({ url: server.url, token: 'tok' });
    client = run.client;
    await waitFor(() => run.seqs.length === 1, 'the first snapshot');
    const closedByServer = new Promise((resolve) => server?.connections[0]?.socket.once('close', resolve));
    client.close();
    expect(await closedByServer).toBe(1000);
    expect(run.statuses.at(-1)).toMatchObject({ state: 'closed', code: 1000 });
  });
});

describe("LiveClient and the site's status messages", () => {
  let server: ScriptedServer | undefined;
  let client: LiveClient | undefined;
  afterEach(async () => {
    client?.close();
    await server?.close();
    client = server = undefined;
  });

  const status = (fields: Partial<StatusMessage> = {}): StatusMessage => ({
    type: 'status',
    site: 1,
    state: 'stale',
    reason: 'matomo_unreachable',
    data_age_ms: 20_000,
    stale_after_ms: 15_000,
    ...fields,
  });

  /** A started client that records its site_status events. */
  function statusClient(options: Omit<LiveClientOptions, 'url'> & { url: string }) {
    const run = recordingClient(options);
    const received: StatusMessage[] = [];
    run.client.on('site_status', (message) => received.push(message));
    return { ...run, received };
  }

  it('asks for status=1 by default, and not with status: false', async () => {
    server = await ScriptedServer.start((c) => c.socket.send(frame(1)));
    const asking = recordingClient({ url: server.url, token: 'tok', site: 2 });
    client = asking.client;
    await waitFor(() => asking.seqs.length === 1, 'the first snapshot');
    client.close();
    const optedOut = recordingClient({ url: server.url, token: 'tok', site: 2, status: false });
    client = optedOut.client;
    await waitFor(() => optedOut.seqs.length === 1, 'the opted-out snapshot');
    expect(server.connections.map((c) => c.url)).toEqual(['/ws?site=2&status=1', '/ws?site=2']);
  });

  it('emits each well-formed status as a site_status event and ignores malformed ones', async () => {
    const malformed: unknown[] = [
      { ...status(), reason: null }, // stale without a reason
      { ...status(), reason: 7 }, // a reason that is not text (an unknown text is a later version's reason: kept)
      { ...status(), state: 'unknown' },
      { ...status(), site: 0 },
      { ...status(), data_age_ms: -1 },
      { ...status(), data_age_ms: '20000' },
      { ...status(), stale_after_ms: 0 },
      { ...status(), stale_after_ms: undefined },
    ];
    const good = [status(), status({ state: 'live', reason: null, data_age_ms: 300 })];
    server = await ScriptedServer.start((c) => {
      c.socket.send(frame(1));
      c.socket.send(JSON.stringify(good[0]));
      for (const message of malformed) c.socket.send(JSON.stringify(message));
      c.socket.send('{"type":"status"');
      c.socket.send(frame(2));
      c.socket.send(JSON.stringify(good[1]));
    });
    const clock = new ManualClock();
    const run = statusClient({ url: server.url, token: 'tok', clock });
    client = run.client;
    await waitFor(() => run.received.length === 2, 'two status messages');
    expect(run.received).toEqual(good);
    // A status message is not a snapshot, and snapshots around it still flow.
    expect(run.seqs).toEqual([1, 2]);
    expect(client.siteStatus(1)).toEqual(good[1]);
  });

  it("keeps the latest status per site and advances a stale site's age on the client's clock", async () => {
    server = await ScriptedServer.start((c) => {
      c.socket.send(JSON.stringify(status({ site: 1, data_age_ms: 20_000 })));
      c.socket.send(JSON.stringify(status({ site: 2, reason: 'poller_silent', data_age_ms: null })));
    });
    const clock = new ManualClock();
    const run = statusClient({ url: server.url, token: 'tok', clock });
    client = run.client;
    expect(client.siteStatus()).toBeUndefined();
    await waitFor(() => run.received.length === 2, 'both sites');
    clock.advance(40_000);
    expect(client.siteStatus(1)).toEqual(status({ site: 1, data_age_ms: 60_000 }));
    expect(client.siteStatus(2)).toEqual(status({ site: 2, reason: 'poller_silent', data_age_ms: null }));
    // Without a site: the one received last.
    expect(client.siteStatus()?.site).toBe(2);
    expect(client.siteStatus(3)).toBeUndefined();
    // The event carries the message as it arrived.
    expect(run.received[0]?.data_age_ms).toBe(20_000);
  });

  it("keeps the last status while disconnected and replaces it with the next connection's", async () => {
    server = await ScriptedServer.start((c, index) => {
      if (index === 0) {
        c.socket.send(JSON.stringify(status({ reason: 'poller_silent', data_age_ms: 16_000 })));
        setImmediate(() => c.socket.close(CloseCode.GoingAway, 'restart'));
      } else {
        c.socket.send(JSON.stringify(status({ state: 'live', reason: null, data_age_ms: 500 })));
      }
    });
    const clock = new ManualClock();
    const run = statusClient({ url: server.url, token: 'tok', clock, random: () => 0.5 });
    client = run.client;
    await waitFor(() => run.statuses.some((s) => s.state === 'reconnecting'), 'the disconnection');
    clock.advance(4_000);
    expect(client.status.state).toBe('reconnecting');
    expect(client.siteStatus(1)).toEqual(status({ reason: 'poller_silent', data_age_ms: 20_000 }));
    clock.runNext((ms) => ms === 500);
    await waitFor(() => run.received.length === 2, 'the status on the new connection');
    expect(client.siteStatus(1)).toEqual(status({ state: 'live', reason: null, data_age_ms: 500 }));
  });

  it('with status: false, ignores status messages', async () => {
    server = await ScriptedServer.start((c) => {
      c.socket.send(JSON.stringify(status()));
      c.socket.send(frame(1));
    });
    const run = statusClient({ url: server.url, token: 'tok', status: false });
    client = run.client;
    await waitFor(() => run.seqs.length === 1, 'the snapshot');
    expect(run.received).toEqual([]);
    expect(client.siteStatus()).toBeUndefined();
  });
});

describe('LiveClient against the real gateway', () => {
  const gateways: RunningGateway[] = [];
  let client: LiveClient | undefined;
  afterEach(async () => {
    client?.close();
    client = undefined;
    await Promise.all(gateways.splice(0).map((g) => g.stop()));
  });

  /** A gateway fed by `feed` (no Redis), on `port` or a free one; resolves with its port. */
  async function gatewayOn(feed: MemorySnapshots, port = 0, env: Record<string, string> = {}): Promise<number> {
    const config = gatewayConfigFrom({
      PORT: String(port),
      HOST: '127.0.0.1',
      VALID_TOKENS: 'tok',
      DASHBOARD_DIR: 'off',
      LOG_LEVEL: 'silent',
      ...env,
    });
    const running = await startGateway(config, { feed });
    gateways.push(running);
    return running.port;
  }

  async function publish(bus: MemorySnapshots, seq: number, todayVisits = seq): Promise<void> {
    const outcome = await bus.publishContent(1, snapshotContent(todayVisits), seq);
    expect(outcome).toEqual({ kind: 'published', seq });
  }

  /** `ws` that also counts raw frames per connection, to see what the client chose to drop. */
  function countingWebSocket(framesPerConnection: number[]): WebSocketConstructor {
    return class extends WebSocket {
      constructor(url: string, protocols: string[]) {
        super(url, protocols);
        const index = framesPerConnection.push(0) - 1;
        this.on('message', () => (framesPerConnection[index] = (framesPerConnection[index] ?? 0) + 1));
      }
    };
  }

  it("receives the site's status from the gateway's heartbeat watch: stale with the poller's trouble, then live", async () => {
    const bus = new MemorySnapshots();
    await publish(bus, 1);
    const heartbeat = (trouble: 'matomo_unreachable' | null, dataAgeMs: number) =>
      bus.publishHeartbeat(1, encodeHeartbeat({ site: 1, fetch_interval_ms: 1000, data_age_ms: dataAgeMs, trouble }), 15_000);
    await heartbeat('matomo_unreachable', 4_000);
    const port = await gatewayOn(bus);
    const run = recordingClient({ url: `ws://127.0.0.1:${port}/ws`, token: 'tok' });
    client = run.client;
    const received: StatusMessage[] = [];
    client.on('site_status', (message) => received.push(message));
    await waitFor(() => received.length === 1, 'the status on join');
    expect(received[0]).toMatchObject({ type: 'status', site: 1, state: 'stale', reason: 'matomo_unreachable', stale_after_ms: 15_000 });
    expect(client.siteStatus()?.data_age_ms).toBeGreaterThanOrEqual(4_000);
    await heartbeat(null, 200);
    await waitFor(() => received.length === 2, 'the live status');
    expect(received[1]).toMatchObject({ state: 'live', reason: null });
    expect(client.siteStatus(1)?.state).toBe('live');
    expect(run.seqs).toEqual([1]);
  });

  it('survives a gateway restart on the same port, drops the resent snapshot, and follows a stream reset', async () => {
    const bus = new MemorySnapshots();
    await publish(bus, 1);
    const port = await gatewayOn(bus);
    const frames: number[] = [];
    const run = recordingClient({
      url: `ws://127.0.0.1:${port}/ws`,
      token: 'tok',
      initialBackoffMs: 200,
      WebSocket: countingWebSocket(frames),
    });
    client = run.client;
    await waitFor(() => run.seqs.length === 1, 'the current snapshot');

    await gateways.shift()!.stop();
    await waitFor(() => run.statuses.some((s) => s.state === 'reconnecting' && s.code === CloseCode.GoingAway), 'reconnecting after 1001');
    await gatewayOn(bus, port);
    // The new gateway resends seq 1 at once: received, not delivered again.
    await waitFor(() => frames.length >= 2 && frames.at(-1) === 1, 'the resent current snapshot');
    await publish(bus, 2);
    await waitFor(() => run.seqs.includes(2), 'seq 2');
    expect(run.seqs).toEqual([1, 2]);
    expect(client.snapshot?.summary.today.visits).toBe(2);

    // Redis flushed behind a restarted gateway: seq starts over and the client follows.
    await gateways.shift()!.stop();
    const fresh = new MemorySnapshots();
    await publish(fresh, 1, 77);
    await gatewayOn(fresh, port);
    await waitFor(() => run.seqs.length === 3, 'the reset stream');
    expect(run.seqs).toEqual([1, 2, 1]);
    expect(client.snapshot?.summary.today.visits).toBe(77);
    expect(run.statuses.at(-1)?.state).toBe('live');
  });

  it('gets exactly the visits that happened while it was away after a gateway restart, nothing repeated', async () => {
    const bus = new MemorySnapshots();
    await publish(bus, 1);
    let version = 0;
    let idVisit = 0;
    const append = async (n: number) => {
      const entries = Array.from({ length: n }, () => ({
        kind: 'visit' as const,
        data: JSON.stringify({ idVisit: ++idVisit, actions: 1 }),
      }));
      const snapshot = snapshotContent(1);
      const outcome = await bus.publish(1, {
        digest: contentDigest(snapshot),
        seq: 1,
        bytes: encodeSnapshot(snapshot, 1, new Date()),
        events: {
          entries,
          cursor: { expectedVersion: version, after: 0, offset: 0, set: [], forget: [] },
          retentionMs: 1_800_000,
          maxLen: 1000,
        },
      });
      version = (outcome as { events: { cursorVersion: number } }).events.cursorVersion;
    };
    const port = await gatewayOn(bus);
    const run = recordingClient({ url: `ws://127.0.0.1:${port}/ws`, token: 'tok', events: 'visits', initialBackoffMs: 200 });
    client = run.client;
    const visits: number[] = [];
    client.on('visit', (e) => visits.push(e.visit.idVisit));
    await waitFor(() => client!.lastEventId !== undefined, 'the starting point');
    await append(2);
    await waitFor(() => visits.length === 2, 'two visits');
    await gateways.shift()!.stop();
    await append(3);
    await gatewayOn(bus, port);
    await waitFor(() => visits.length >= 5, 'the three missed visits');
    await append(1);
    await waitFor(() => visits.length >= 6, 'a live visit after the replay');
    expect(visits).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('stops after 4001 from the gateway and reports it; the reference ?token= still works', async () => {
    const bus = new MemorySnapshots();
    await publish(bus, 3);
    const port = await gatewayOn(bus);
    const clock = new ManualClock();
    const refused = recordingClient({ url: `ws://127.0.0.1:${port}/`, token: 'wrong', clock });
    client = refused.client;
    const closed = await waitFor(() => refused.statuses.find((s) => s.state === 'closed'), 'the closed status');
    expect(closed).toMatchObject({ code: 4001, authFailed: true });
    expect(refused.seqs).toEqual([]);
    expect(clock.pending.size).toBe(0);

    const byQuery = recordingClient({ url: `ws://127.0.0.1:${port}/`, token: 'tok', tokenTransport: 'query' });
    client = byQuery.client;
    await waitFor(() => byQuery.seqs.length === 1, 'a snapshot via ?token=');
    expect(byQuery.seqs).toEqual([3]);
  });

  it('asks for the summary only with fields=summary', async () => {
    const bus = new MemorySnapshots();
    await publish(bus, 4);
    const port = await gatewayOn(bus);
    const run = recordingClient({ url: `ws://127.0.0.1:${port}/ws`, token: 'tok', fields: ['summary'] });
    client = run.client;
    await waitFor(() => run.seqs.length === 1, 'the summary');
    expect(Object.keys(client.snapshot ?? {}).sort()).toEqual(['seq', 'site', 'summary', 'updated_at']);
  });

  it('with a token provider, refreshes signed tokens in-band: one connection outlives several tokens', async () => {
    const secret = 'live-client-test-secret-of-32-bytes-at-least';
    const bus = new MemorySnapshots();
    await publish(bus, 1);
    const port = await gatewayOn(bus, 0, { JWT_SECRET: secret, JWT_MAX_TTL: '10s' });
    const expiries: number[] = [];
    const provider = async () => {
      const exp = Math.floor(Date.now() / 1000) + 7;
      expiries.push(exp * 1000);
      return new SignJWT({ sites: [1] }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(exp).sign(Buffer.from(secret));
    };
    const run = recordingClient({ url: `ws://127.0.0.1:${port}/ws`, token: provider });
    client = run.client;
    await waitFor(() => run.seqs.length === 1, 'the first snapshot');
    const firstExp = expiries[0] as number;
    // The first token's exp is the event here: the session must still be live after it, on its first connection.
    await waitFor(() => Date.now() > firstExp + 1000, 'the first token expired', 15_000);
    expect(expiries.length).toBeGreaterThanOrEqual(2);
    expect(run.statuses.map((s) => s.state)).toEqual(['connecting', 'live']);
    await publish(bus, 2);
    await waitFor(() => run.seqs.includes(2), 'a snapshot after the first exp');
  });
});
