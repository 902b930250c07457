import {
  asEventMessage,
  asStatusMessage,
  backoffDelay,
  closeRule,
  parseReconnectHint,
  PING_MESSAGE,
  systemClock,
  type Clock,
  type EventsResetMessage,
  type EventStream,
  type Snapshot,
  type StatusMessage,
  type VisitEventMessage,
} from '@matomo-live/protocol';
import { ClientCloseCode, CloseCode } from './close-codes';
import { connectRequest, type SnapshotField } from './connect-url';
import { EventTracker, checkEventOptions } from './event-tracker';
import { SeqFilter } from './seq-filter';
import { SiteStatuses } from './site-status';
import { TokenKeeper, type TokenSource } from './token-keeper';
import { TypedEmitter } from './typed-emitter';

export type { EventsResetMessage, EventVisit, Snapshot, StaleReason, StatusMessage, VisitEventMessage } from '@matomo-live/protocol';

/**
 * The part of a WebSocket the client uses: the browser's and `ws`'s both fit.
 * Handlers take their event as a bare shape so either implementation's
 * richer event type is accepted.
 */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((event: never) => void) | null;
  onmessage: ((event: never) => void) | null;
  onclose: ((event: never) => void) | null;
  onerror: ((event: never) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}
export type WebSocketConstructor = new (url: string, protocols: string[]) => WebSocketLike;

export type ConnectionState = 'connecting' | 'live' | 'reconnecting' | 'closed';

export interface StatusEvent {
  state: ConnectionState;
  /** Consecutive failed attempts (back to 0 once the gateway sends data). */
  attempt: number;
  /** Close code of the connection that just ended (reconnecting/closed). */
  code?: number;
  reason?: string;
  /** When state is 'reconnecting': the delay before the next attempt, ms. */
  retryInMs?: number;
  /** When state is 'reconnecting': true when that delay is the server's (a reconnect hint in the close frame). */
  retryFromServer?: boolean;
  /** When state is 'closed' because the gateway refused the token or the site (4001–4004). */
  authFailed?: boolean;
}

export interface ClientEvents extends Record<string, unknown> {
  snapshot: Snapshot;
  status: StatusEvent;
  /** A new or updated visit (with `events: 'visits'`): each once, in stream order, across reconnects. */
  visit: VisitEventMessage;
  /** The event state cannot be continued (a first connection, a `since` too old, events lost upstream): resync from here. */
  events_reset: EventsResetMessage;
  /** Whether a site's data is current (`live`) or old (`stale`, with a reason), as the gateway says: on connect, then on each change. */
  site_status: StatusMessage;
}

export interface LiveClientOptions {
  /** Gateway URL, e.g. `wss://live.example.org/ws` (http(s):// works too). Required. */
  url: string;
  /**
   * Access token, or a function returning a fresh one (sync or async): called
   * for every connection and, while connected, before the current signed
   * token's `exp` (its payload is read, not verified), the fresh token going
   * to the gateway in an `auth` message. Default: none (only for gateways
   * without tokens).
   */
  token?: TokenSource;
  /** How the token travels. Default 'subprotocol' (never in a URL); 'query' sends `?token=`. */
  tokenTransport?: 'subprotocol' | 'query';
  /** Site id. Default: the gateway's default site. */
  site?: number;
  /** Ask only for these top-level keys (small devices). Default: everything. */
  fields?: readonly SnapshotField[];
  /** `'visits'`: also receive every new or updated visit as a `visit` event, resumed after reconnects. Default: none. */
  events?: EventStream;
  /** With `events`: the first connection resumes after this stream id (one the application saved). Default: start now. */
  since?: string;
  /** With `events` and no `since`: the first connection replays up to this many of the latest retained events. Default: none. */
  rewind?: number;
  /** Ask for the site's status messages (`status=1`), emitted as `site_status` events. Default true; false opts out. */
  status?: boolean;
  /** Upper bound of the first retry's delay, ms. Default 1000. */
  initialBackoffMs?: number;
  /** Upper bound of any retry delay, ms. Default 10000. */
  maxBackoffMs?: number;
  /** Silence after which the client sends `{"type":"ping"}`, ms. Default 35000 (the gateway's heartbeat is 25 s). */
  idleTimeoutMs?: number;
  /** Time the gateway has to answer that ping before the connection is declared dead, ms. Default 10000. */
  pongTimeoutMs?: number;
  /** WebSocket implementation. Default: globalThis.WebSocket (the Node entry point supplies `ws`). */
  WebSocket?: WebSocketConstructor;
  /** Timers. Default: the real ones. */
  clock?: Clock;
  /** Uniform in [0, 1) for the backoff jitter. Default Math.random. */
  random?: () => number;
}

type OptionalOptions = 'token' | 'site' | 'fields' | 'events' | 'since' | 'rewind';
type ResolvedOptions = Required<Omit<LiveClientOptions, OptionalOptions>> & Pick<LiveClientOptions, OptionalOptions>;

function resolveOptions(options: LiveClientOptions): ResolvedOptions {
  const WebSocketImpl = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (!WebSocketImpl) throw new TypeError('matomo-live: no WebSocket implementation; pass options.WebSocket');
  return {
    tokenTransport: 'subprotocol',
    status: true,
    initialBackoffMs: 1000,
    maxBackoffMs: 10_000,
    idleTimeoutMs: 35_000,
    pongTimeoutMs: 10_000,
    clock: systemClock,
    random: Math.random,
    ...stripUndefined(options),
    url: options.url,
    WebSocket: WebSocketImpl,
  };
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

const OPEN = 1;

/**
 * A WebSocket to one gateway that stays connected: it reconnects with
 * exponential backoff and full jitter (or after the delay the server's close
 * frame asks for: protocol/src/reconnect-hint.ts), notices dead connections with an
 * application-level ping (browsers cannot see protocol pings), and delivers
 * each snapshot once, in seq order. It stops for good on `close()` or when
 * the gateway refuses the token or site (4001–4004).
 */
export class LiveClient extends TypedEmitter<ClientEvents> {
  private readonly options: ResolvedOptions;
  private readonly seqFilter = new SeqFilter();
  private socket: WebSocketLike | null = null;
  private failedAttempts = 0;
  private retryTimer: unknown = null;
  private idleTimer: unknown = null;
  private pongTimer: unknown = null;
  private stopped = true;
  private current: StatusEvent = { state: 'closed', attempt: 0 };
  private latest: Snapshot | null = null;
  private readonly eventTracker: EventTracker;
  private readonly tokens: TokenKeeper;
  private readonly siteStatuses: SiteStatuses;
  /** Bumped by each attempt and by close(): a provider's late answer for an abandoned attempt is dropped. */
  private attemptId = 0;

  constructor(options: LiveClientOptions) {
    super();
    this.options = resolveOptions(options);
    checkEventOptions(this.options);
    this.eventTracker = new EventTracker(this.options.since);
    this.tokens = new TokenKeeper(this.options.token, this.options.clock);
    const { clock } = this.options;
    this.siteStatuses = new SiteStatuses(() => clock.now());
    // Fail on a bad URL or token now, not on the first attempt.
    connectRequest(this.target(this.tokens.token));
  }

  /** The last delivered snapshot. */
  get snapshot(): Snapshot | null {
    return this.latest;
  }

  get status(): StatusEvent {
    return this.current;
  }

  /**
   * The latest status of the site (default: the one received last), kept while disconnected, with a stale
   * site's `data_age_ms` advanced by the time since it arrived. Undefined before the first (or with `status: false`).
   */
  siteStatus(site?: number): StatusMessage | undefined {
    return this.siteStatuses.get(site);
  }

  /** The id of the last visit event (or reset) delivered: save it to resume later with the `since` option. */
  get lastEventId(): string | undefined {
    return this.eventTracker.lastId;
  }

  /** Connects (and keeps reconnecting). Calling it again while running does nothing. */
  start(): this {
    if (!this.stopped) return this;
    this.stopped = false;
    this.failedAttempts = 0;
    this.setStatus({ state: 'connecting', attempt: 0 });
    this.openSocket();
    return this;
  }

  /**
   * Replaces the token (or provider) for the next connection attempt, e.g.
   * after a 4002 (expired) closed the client: `client.setToken(fresh); client.start()`.
   */
  setToken(token: TokenSource): void {
    if (typeof token === 'string') connectRequest(this.target(token));
    this.tokens.set(token);
  }

  /** Closes the connection with 1000 and stops reconnecting. */
  close(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.attemptId += 1;
    this.clearTimers();
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      detach(socket);
      if (socket.readyState <= OPEN) socket.close(ClientCloseCode.Normal, 'client closed');
    }
    this.setStatus({ state: 'closed', attempt: this.failedAttempts, code: ClientCloseCode.Normal, reason: 'client closed' });
  }

  private target(token: string | undefined) {
    const { url, tokenTransport, site, fields, events, rewind, status } = this.options;
    // Once anything was delivered, every connection resumes after it; a rewind is only for the very first.
    const since = this.eventTracker.lastId;
    return { url, token, tokenTransport, site, fields, events, since, rewind: since === undefined ? rewind : undefined, status };
  }

  /** A fixed token connects at once; a provider is asked first (a failure counts as a failed attempt). */
  private openSocket(): void {
    const attempt = ++this.attemptId;
    if (!this.tokens.hasProvider) return this.connectWith(this.tokens.token);
    this.tokens.forConnection().then(
      (token) => {
        if (!this.stopped && attempt === this.attemptId) this.connectWith(token);
      },
      (error: unknown) => {
        if (this.stopped || attempt !== this.attemptId) return;
        this.handleClose(ClientCloseCode.Abnormal, `token provider failed: ${error instanceof Error ? error.message : String(error)}`);
      },
    );
  }

  private connectWith(token: string | undefined): void {
    let socket: WebSocketLike;
    try {
      const { url, protocols } = connectRequest(this.target(token));
      socket = new this.options.WebSocket(url, protocols);
    } catch (error) {
      this.handleClose(ClientCloseCode.Abnormal, error instanceof Error ? error.message : String(error));
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      this.seqFilter.newConnection();
      this.setStatus({ state: 'live', attempt: this.failedAttempts });
      this.armIdleTimer();
      this.tokens.watch((text) => {
        if (this.socket !== socket || socket.readyState !== OPEN) return false;
        socket.send(text);
        return true;
      });
    };
    socket.onmessage = (event: { data: unknown }) => this.handleMessage(event.data);
    socket.onclose = (event: { code: number; reason: string }) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.handleClose(event.code, event.reason);
    };
    // An error is always followed by a close event; the close decides what happens next.
    socket.onerror = () => undefined;
  }

  private handleMessage(data: unknown): void {
    // Backoff restarts only once the gateway has said something: one that
    // accepts and closes at once (capacity, 1013) must still see growing delays.
    this.failedAttempts = 0;
    this.armIdleTimer();
    if (typeof data !== 'string') return; // the protocol is text only
    let message: unknown;
    try {
      message = JSON.parse(data);
    } catch {
      return;
    }
    if (message === null || typeof message !== 'object') return;
    const record = message as Record<string, unknown>;
    if (record['type'] !== undefined) {
      // Status and visit events when asked for; other control frames (such as {"type":"pong"}) are liveness only.
      const status = this.options.status ? asStatusMessage(record) : undefined;
      if (status) {
        this.siteStatuses.keep(status);
        this.emit('site_status', status);
        return;
      }
      const event = this.options.events === undefined ? undefined : asEventMessage(record);
      if (event && this.eventTracker.accept(event)) {
        if (event.type === 'visit') this.emit('visit', event);
        else this.emit('events_reset', event);
      }
      return;
    }
    const seq = record['seq'];
    if (typeof seq !== 'number' || !Number.isSafeInteger(seq)) return;
    const verdict = this.seqFilter.judge(seq);
    if (verdict === 'deliver' || verdict === 'reset') {
      this.latest = message as Snapshot;
      this.emit('snapshot', this.latest);
    }
  }

  private handleClose(code: number, reason: string): void {
    this.clearTimers();
    if (this.stopped) return;
    // The protocol's table decides; a code it does not know reconnects (closeRule explains why).
    // An expired session with a provider is not final: the next attempt asks it for a fresh token.
    const renewable = code === (CloseCode.TokenExpired as number) && this.tokens.hasProvider;
    if (closeRule(code).action === 'stop' && !renewable) {
      this.stopped = true;
      this.setStatus({ state: 'closed', attempt: this.failedAttempts, code, reason, authFailed: true });
      return;
    }
    // A server that closes on purpose (drain, rebalance, overload) may say when to come back: it has spread
    // those delays over the clients it closed, so the hint replaces this attempt's own backoff.
    const hint = parseReconnectHint(reason);
    const retryInMs =
      hint?.retryAfterMs ??
      backoffDelay(this.failedAttempts, {
        initialMs: this.options.initialBackoffMs,
        maxMs: this.options.maxBackoffMs,
        random: this.options.random,
      });
    this.failedAttempts += 1;
    this.setStatus({
      state: 'reconnecting',
      attempt: this.failedAttempts,
      code,
      reason,
      retryInMs,
      ...(hint !== undefined ? { retryFromServer: true } : {}),
    });
    this.retryTimer = this.options.clock.setTimeout(() => {
      this.retryTimer = null;
      if (!this.stopped) this.openSocket();
    }, retryInMs);
  }

  /** Any frame proves the connection alive; silence first earns a ping, then a reconnect. */
  private armIdleTimer(): void {
    const { clock, idleTimeoutMs, pongTimeoutMs } = this.options;
    this.clearTimer('idleTimer');
    this.clearTimer('pongTimer');
    this.idleTimer = clock.setTimeout(() => {
      this.idleTimer = null;
      const socket = this.socket;
      if (!socket || socket.readyState !== OPEN) return;
      socket.send(PING_MESSAGE);
      this.pongTimer = clock.setTimeout(() => {
        this.pongTimer = null;
        if (this.socket !== socket) return;
        // Do not wait for a close handshake the dead peer will never answer.
        this.socket = null;
        detach(socket);
        socket.close(ClientCloseCode.DeadConnection, 'no pong');
        this.handleClose(ClientCloseCode.DeadConnection, 'no message or pong in time');
      }, pongTimeoutMs);
    }, idleTimeoutMs);
  }

  private clearTimer(name: 'retryTimer' | 'idleTimer' | 'pongTimer'): void {
    if (this[name] !== null) this.options.clock.clearTimeout(this[name]);
    this[name] = null;
  }

  private clearTimers(): void {
    this.tokens.stop();
    this.clearTimer('retryTimer');
    this.clearTimer('idleTimer');
    this.clearTimer('pongTimer');
  }

  private setStatus(status: StatusEvent): void {
    this.current = status;
    this.emit('status', status);
  }
}

function detach(socket: WebSocketLike): void {
  socket.onopen = null;
  socket.onmessage = null;
  socket.onclose = null;
  socket.onerror = () => undefined;
}
