/**
 * A fleet of reconnecting clients for the storm benchmark and its CI-sized
 * test: the shipped client (`@matomo-live/client`'s connectLive, "live" = its
 * `status` event with `state: 'live'`) or socket.io-client with its own
 * reconnection, each client recording when it was live, how its connections
 * ended and which snapshots it got. Runs in a load-generator child process
 * (storm-fleet-main.ts) or in-process (the test).
 */
import { connectLive, type LiveClient, type StatusEvent } from '@matomo-live/client';
import WebSocket from 'ws';
import { io as socketIo, type Socket } from 'socket.io-client';

export type FleetKind = 'live-client' | 'socketio';

export interface FleetOptions {
  /** ws:// URL through NGINX (live-client: token in the subprotocol), or the http:// origin (socketio). */
  url: string;
  token: string;
  count: number;
  kind: FleetKind;
  /** Clients started per 100 ms while connecting (the initial ramp, not a storm). Default 40. */
  rampPer100Ms?: number;
}

/** One status change of one client: epoch ms, state, and the close code of the connection that ended. */
type Transition = [at: number, state: 'live' | 'down', code: number, opened: boolean];

interface Tracked {
  transitions: Transition[];
  live: boolean;
  /** Whether the current attempt reached 'open' (a refused attempt never does). */
  opened: boolean;
  /** Seq of the last snapshot the client library handed over, and when each was first seen. */
  lastSeq: number;
  seenAt: Map<number, number>;
  /** Snapshots handed over twice, and the same seq on the wire twice within one connection. */
  duplicates: number;
  wireRepeats: number;
  stop(): void;
}

export interface StepReport {
  clients: number;
  /** Clients that left 'live' since the step started. */
  affected: number;
  /** Of those, the ones live again now, and since-step-start → their last 'live' (ms) of each. */
  backLive: number;
  timesToLiveMs: number[];
  /** Per affected client that is live again: its longest time not live in the step, ms (a moved client's own outage). */
  outagesMs: number[];
  /** Attempts that never opened (refused, 502/503, reset) plus 1013 closes. */
  failedAttempts: number;
  closes: Record<string, number>;
  /** Clients not live right now. */
  down: number;
  duplicates: number;
  wireRepeats: number;
}

export interface SeqReport {
  clients: number;
  /** Clients that got `seq` (or a later one) … */
  reached: number;
  /** … and the time from `publishedAt` until the last of them did, ms. */
  lastAfterMs: number;
  withinMs: number;
  reachedWithin: number;
}

const SOCKET_IO_CLOSE_CODE = {
  'transport close': 1006,
  'io server disconnect': 1001,
  'ping timeout': 4900,
  'transport error': 1006,
} as const;

export class StormFleet {
  private readonly clients: Tracked[] = [];

  constructor(private readonly options: FleetOptions) {}

  /** Starts every client at the ramp rate; resolves once all are live (or rejects after `timeoutMs`). */
  async start(timeoutMs = 120_000): Promise<void> {
    const ramp = this.options.rampPer100Ms ?? 40;
    for (let i = 0; i < this.options.count; i += ramp) {
      for (let j = i; j < Math.min(this.options.count, i + ramp); j++) this.clients.push(this.startOne());
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await this.until(() => this.clients.every((c) => c.live), timeoutMs, 'every client to be live');
  }

  get size(): number {
    return this.clients.length;
  }

  liveCount(): number {
    return this.clients.filter((c) => c.live).length;
  }

  /** What happened since `since` (epoch ms). */
  report(since: number): StepReport {
    const times: number[] = [];
    const outages: number[] = [];
    let affected = 0;
    let failed = 0;
    let down = 0;
    const closes: Record<string, number> = {};
    for (const client of this.clients) {
      const after = client.transitions.filter(([at]) => at >= since);
      const downs = after.filter(([, state]) => state === 'down');
      if (!client.live) down++;
      for (const [, , code, opened] of downs) {
        closes[code] = (closes[code] ?? 0) + 1;
        if (!opened || code === 1013) failed++;
      }
      if (downs.length === 0) continue;
      affected++;
      const lastLive = [...after].reverse().find(([, state]) => state === 'live');
      if (!client.live || !lastLive) continue;
      times.push(lastLive[0] - since);
      let longest = 0;
      let downAt: number | undefined;
      for (const [at, state] of after) {
        if (state === 'down') downAt ??= at;
        else if (downAt !== undefined) {
          longest = Math.max(longest, at - downAt);
          downAt = undefined;
        }
      }
      outages.push(longest);
    }
    return {
      clients: this.clients.length,
      affected,
      backLive: times.length,
      timesToLiveMs: times,
      outagesMs: outages,
      failedAttempts: failed,
      closes,
      down,
      duplicates: this.clients.reduce((s, c) => s + c.duplicates, 0),
      wireRepeats: this.clients.reduce((s, c) => s + c.wireRepeats, 0),
    };
  }

  /** Who has `seq` (or later) and since when, relative to `publishedAt`. */
  seqReport(seq: number, publishedAt: number, withinMs: number): SeqReport {
    let reached = 0;
    let reachedWithin = 0;
    let last = 0;
    for (const client of this.clients) {
      const at = [...client.seenAt.entries()].filter(([s]) => s >= seq).map(([, t]) => t);
      if (at.length === 0) continue;
      reached++;
      const first = Math.min(...at) - publishedAt;
      if (first <= withinMs) reachedWithin++;
      last = Math.max(last, first);
    }
    return { clients: this.clients.length, reached, lastAfterMs: last, withinMs, reachedWithin };
  }

  async waitForSeq(seq: number, timeoutMs: number): Promise<void> {
    await this.until(() => this.clients.every((c) => c.lastSeq >= seq), timeoutMs, `every client to get seq ${seq}`).catch(() => undefined);
  }

  async waitAllLive(timeoutMs: number): Promise<void> {
    await this.until(() => this.clients.every((c) => c.live), timeoutMs, 'every client to be live').catch(() => undefined);
  }

  close(): void {
    for (const client of this.clients) client.stop();
  }

  private async until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${this.liveCount()} live)`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  private startOne(): Tracked {
    const tracked: Tracked = {
      transitions: [],
      live: false,
      opened: false,
      lastSeq: -1,
      seenAt: new Map(),
      duplicates: 0,
      wireRepeats: 0,
      stop: () => undefined,
    };
    const onSnapshot = (seq: number) => {
      if (seq === tracked.lastSeq) tracked.duplicates++;
      tracked.lastSeq = seq;
      if (!tracked.seenAt.has(seq)) tracked.seenAt.set(seq, Date.now());
      if (tracked.seenAt.size > 16) tracked.seenAt.delete(tracked.seenAt.keys().next().value as number);
    };
    const goLive = () => {
      tracked.live = true;
      tracked.opened = true;
      tracked.transitions.push([Date.now(), 'live', 0, true]);
    };
    const goDown = (code: number) => {
      tracked.transitions.push([Date.now(), 'down', code, tracked.opened]);
      tracked.live = false;
      tracked.opened = false;
    };
    if (this.options.kind === 'live-client') {
      const client: LiveClient = connectLive({ url: this.options.url, token: this.options.token, WebSocket: tappedWebSocket(tracked) });
      client.on('status', (status: StatusEvent) => {
        if (status.state === 'live') goLive();
        else if ((status.state === 'reconnecting' || status.state === 'closed') && status.code !== undefined) goDown(status.code);
      });
      client.on('snapshot', (snapshot) => onSnapshot(snapshot.seq));
      tracked.stop = () => client.close();
    } else {
      const socket: Socket = socketIo(this.options.url, { transports: ['websocket'] });
      socket.on('connect', goLive);
      socket.on('disconnect', (reason: string) => goDown(SOCKET_IO_CLOSE_CODE[reason as keyof typeof SOCKET_IO_CLOSE_CODE] ?? 1006));
      socket.on('connect_error', () => goDown(1006));
      socket.on('snapshot', (snapshot: { seq: number }) => onSnapshot(snapshot.seq));
      tracked.stop = () => void socket.close();
    }
    return tracked;
  }
}

/** `ws` with a tap on each connection's raw messages: the same seq twice on one connection is a server bug. */
function tappedWebSocket(tracked: Tracked): typeof WebSocket {
  return class TappedWebSocket extends WebSocket {
    constructor(url: string, protocols: string[]) {
      super(url, protocols, { perMessageDeflate: false });
      let last = -1;
      this.on('message', (data: Buffer) => {
        const match = /"seq":(\d+)/.exec(data.toString('latin1', Math.max(0, data.length - 120)));
        const seq = match ? Number(match[1]) : -1;
        if (seq >= 0 && seq === last) tracked.wireRepeats++;
        if (seq >= 0) last = seq;
      });
    }
  } as unknown as typeof WebSocket;
}
