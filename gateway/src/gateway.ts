import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import WebSocket, { WebSocketServer, type ServerOptions } from 'ws';
import { CloseCode, encodeReconnectHint, jitteredDelay, systemClock, type IntervalClock, type ReconnectCause } from '@matomo-live/protocol';
import { tokenFingerprint, type EventSource, type GatewayConfig, type Logger, type SnapshotFeed } from '@matomo-live/shared';
import { AcceptPacer, fullGatewayHintMs, refusalBeforeUpgrade } from './admission/upgrade-admission';
import { ClientSession, closeWithCode, reasonWithDetail } from './sessions/client-session';
import {
  ClientAddressResolver,
  isWebSocketPath,
  originAllowed,
  parseConnectRequest,
  selectProtocol,
  type ConnectRequest,
} from './admission/connect-request';
import { createEventClients, type EventClients } from './events/event-clients';
import { FirstReadiness } from './snapshots/first-readiness';
import { GatewayMetrics } from './metrics/gateway-metrics';
import { createHttpHandler } from './http/http-routes';
import type { FleetRegistry } from './fleet/fleet-registry';
import { OldestFirstShedder } from './fleet/oldest-first-shedder';
import { KeyedCounter, TokenBucket, WindowCounter } from './admission/rate-limits';
import { FailedAuthLimiter } from './admission/failed-auth-limiter';
import { LOG_DOCS } from './log-docs';
import { RebalanceLoop } from './fleet/rebalance-loop';
import { SnapshotHub } from './snapshots/snapshot-hub';
import { StatusHub } from './snapshots/status-hub';
import { resolveDashboardDir } from './http/static-files';
import { grantAllows, type TokenGrant } from './admission/token-auth';
import type { TokenSources } from './admission/token-sources';
import { GatewayTokens } from './admission/gateway-tokens';
import { createBroadcastWriter, type BroadcastWriter } from './sessions/broadcast-writer';

export interface GatewayOptions {
  config: GatewayConfig;
  feed: SnapshotFeed;
  /** Visit events (`?events=visits`); without it such connections are refused with 1008. */
  events?: EventSource;
  logger: Logger;
  /** Clock for heartbeats, drain spreading, rate limits and lag metrics. Default: the system clock. */
  clock?: IntervalClock;
  /** Metrics; default a fresh registry without process metrics. */
  metrics?: GatewayMetrics;
  /** Where the fleet shares its connection counts (Redis); absent or REBALANCE=off: no rebalancing. */
  fleet?: FleetRegistry;
  /** Uniform in [0, 1) for the reconnect hints' jitter. Default Math.random. */
  random?: () => number;
  /** HTTP client of JWT_JWKS_URL. Default: the global fetch. */
  fetch?: typeof fetch;
}

export interface Gateway {
  /** Starts listening and subscribing (in the background: no Redis ⇒ running but not ready). Resolves with the port. */
  listen(): Promise<number>;
  /** Readiness 503, refuse upgrades, close clients with 1001 spread over the drain window. */
  drain(): Promise<void>;
  /** Closes every client with 1001 at once and stops the server. Idempotent. Does not close the feed (the caller owns it). */
  dispose(): Promise<void>;
  /** Reads the token files again and fetches JWT_JWKS_URL again (SIGHUP); connections the new set refuses are closed. */
  reloadTokens(): Promise<void>;
  /** The token checks in use (swapped on rotation). */
  readonly tokens: TokenSources;
  /** True while the feed is subscribed and the gateway is not draining. */
  isReady(): boolean;
  /** The rebalancer, when this gateway takes part in one (tests drive its rounds). */
  readonly rebalancer: RebalanceLoop | undefined;
  readonly hub: SnapshotHub;
  /** Each site's freshness, for `?status=1` connections. */
  readonly statuses: StatusHub;
  readonly metrics: GatewayMetrics;
  /** How broadcasts reach the sockets, and how many writes took each way. */
  readonly writer: BroadcastWriter;
  /** Open connections. */
  readonly connectionCount: number;
  /** Visit events, when an EventSource was given. */
  readonly events: EventClients | undefined;
}

/**
 * How long a client may take to finish the close handshake before its socket
 * is destroyed (ws's closeTimeout, armed by every close; ws's default is 30 s).
 */
const CLOSE_HANDSHAKE_MS = 2000;

/**
 * The listen backlog: connections the kernel completes before the event loop
 * accepts them. Node's default (511) overflowed under reconnect storms: SYNs
 * were dropped, NGINX's connect timed out and marked replicas down. The
 * kernel clamps it to net.core.somaxconn (4096 on current kernels).
 */
const LISTEN_BACKLOG = 4096;

/** How long a gateway may go without ever reaching Redis before it says so at error level, ms. */
const NEVER_READY_ALERT_MS = 10_000;

/** Rebalancing decisions (and fleet reports) are made this often, ms. */
const REBALANCE_INTERVAL_MS = 1000;
/** How often TRUST_PROXY host names are resolved again: the proxy may start after the gateway (compose starts nginx once the gateways are healthy) or come back with a new address. */
const TRUST_PROXY_REFRESH_MS = 5_000;

export function createGateway({
  config,
  feed,
  events: eventSource,
  logger,
  clock = systemClock,
  metrics = new GatewayMetrics(),
  fleet,
  random = Math.random,
  fetch,
}: GatewayOptions): Gateway {
  const now = () => clock.now();
  const writer = createBroadcastWriter({ enabled: config.broadcastFastPath, logger });
  metrics.broadcastFastPath.set(writer.path === 'shared-frame' ? 1 : 0);
  metrics.initialise({ maxConnections: config.maxConnections, siteIds: config.siteIds });
  const hub = new SnapshotHub({ siteIds: config.siteIds, logger, encode: writer.encode, now });
  const statuses = new StatusHub({ siteIds: config.siteIds, clock, logger, encode: writer.encode, metrics });
  const sessionTokens = new GatewayTokens({ config, logger, clock, metrics, fetch });
  const tokens = sessionTokens.sources;
  const addresses = new ClientAddressResolver(config.trustProxy, {
    onLookupError: (host, error) =>
      logger.warn(
        { host, err: (error as Error).message, docs: 'docs/OPERATIONS.md#security' },
        'TRUST_PROXY host name does not resolve; keeping its last addresses',
      ),
    onIgnoredForwardedFor: (peer) =>
      logger.warn(
        { peer, docs: LOG_DOCS.failedTokens },
        'X-Forwarded-For from a peer not in TRUST_PROXY is ignored: if it is a proxy, every client behind it shares its address for the per-address limits',
      ),
  });
  let proxyRefresh: unknown;
  const attemptsPerIp = new WindowCounter(config.connectRatePerIp, 60_000, now);
  const failedAuth = new FailedAuthLimiter({ limit: config.failedAuthPerIp, now });
  const perToken = new KeyedCounter(config.maxConnectionsPerToken);
  const pacer = new AcceptPacer(config.acceptRate, now, random);
  /** In insertion order: the oldest connections first (the ones a rebalance moves). */
  const sessions = new Set<ClientSession>();
  const events = eventSource && createEventClients({ config, source: eventSource, writer, metrics, logger });
  let draining = false;
  let disposed = false;
  let heartbeat: unknown;
  const readiness = new FirstReadiness({ feed, hub, siteIds: config.siteIds, clock, logger, alertAfterMs: NEVER_READY_ALERT_MS });
  const shedder = new OldestFirstShedder(sessions, (session) => void closeGoingAway(session, undefined, hint('rebalance', 0, 1000)));
  const rebalancer =
    fleet !== undefined && config.rebalance
      ? new RebalanceLoop({
          registry: fleet,
          policy: {
            margin: config.rebalanceMargin,
            minExcess: config.rebalanceMinExcess,
            ratePerSecond: config.rebalanceRate,
            intervalMs: REBALANCE_INTERVAL_MS,
          },
          clock,
          logger,
          metrics,
          connections: () => sessions.size - shedder.pending,
          draining: () => draining,
          shed: (count) => (draining || disposed ? 0 : shedder.shed(count)),
        })
      : undefined;
  const hint = (cause: ReconnectCause, fromMs: number, toMs: number) =>
    encodeReconnectHint({ retryAfterMs: jitteredDelay(fromMs, toMs, random), cause });
  const overload = (retryAfterMs: number) => encodeReconnectHint({ retryAfterMs, cause: 'overload' });

  // closeTimeout is ws's (8.23) but not yet in @types/ws 8.18: hence the widened type.
  const serverOptions: ServerOptions & { closeTimeout: number } = {
    noServer: true,
    maxPayload: config.maxPayloadBytes,
    perMessageDeflate: config.perMessageDeflate,
    clientTracking: false,
    handleProtocols: selectProtocol,
    closeTimeout: CLOSE_HANDSHAKE_MS,
  };
  const wss = new WebSocketServer(serverOptions);

  const isReady = () => !draining && !disposed && feed.isReady();
  const dashboardDir = resolveDashboardDir(config.dashboardDir);
  const server: Server = config.tls ? createHttpsServer({ key: config.tls.key, cert: config.tls.cert }) : createHttpServer();
  const clientAddress = (req: IncomingMessage) => addresses.resolve(req.socket.remoteAddress, req.headers['x-forwarded-for']);
  server.on('request', createHttpHandler({ config, hub, auth: tokens, failedAuth, clientAddress, metrics, isReady, dashboardDir, logger }));
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    void handleUpgrade(req, socket, head).catch((error: Error) => {
      logger.error({ err: error }, 'upgrade failed');
      socket.destroy();
    });
  });

  function refuse(socket: Socket, status: number, text: string, extraHeaders = ''): void {
    if (!socket.destroyed) socket.end(`HTTP/1.1 ${status} ${text}\r\n${extraHeaders}Connection: close\r\nContent-Length: 0\r\n\r\n`);
  }

  async function handleUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): Promise<void> {
    const refusal = refusalBeforeUpgrade({
      draining: draining || disposed,
      everReady: readiness.reached,
      shedding: rebalancer?.refusing ?? false,
    });
    if (refusal !== undefined) {
      metrics.authFailures.inc({ reason: refusal });
      return refuse(socket, 503, 'Service Unavailable');
    }
    if (!isWebSocketPath(req.url)) return refuse(socket, 404, 'Not Found');
    if (!originAllowed(req.headers.origin, config.allowedOrigins)) {
      metrics.authFailures.inc({ reason: 'origin' });
      return refuse(socket, 403, 'Forbidden');
    }
    const ip = clientAddress(req);
    const blockedMs = failedAuth.blockedFor(ip);
    if (blockedMs !== undefined) {
      metrics.authFailures.inc({ reason: 'failed-auth-limit' });
      return refuse(socket, 429, 'Too Many Requests', `Retry-After: ${Math.ceil(blockedMs / 1000)}\r\n`);
    }
    const request = parseConnectRequest(req.url, req.headers);
    const overRate = !attemptsPerIp.take(ip);
    // Before the token check: a refused storm costs no verification. The slot
    // itself is taken only for a valid token (wrong ones must not use up the
    // rate of valid clients).
    let paceMs = overRate || pacer.hasRoom() ? undefined : pacer.take();
    const result = overRate || paceMs !== undefined ? undefined : await tokens.verify(request.token);
    // Another attempt of this address may have reached the limit while this token was checked.
    const lateBlockMs = result?.ok === true ? failedAuth.blockedFor(ip) : undefined;
    if (result?.ok === true && lateBlockMs === undefined) paceMs = pacer.take();
    if (result?.ok === false && result.reason === 'invalid' && failedAuth.fail(ip)) {
      logger.warn(
        { ip, failures: config.failedAuthPerIp, docs: LOG_DOCS.failedTokens },
        'too many wrong tokens: address refused until its minute ends',
      );
    }
    if (socket.destroyed) return;
    if (draining || disposed) return refuse(socket, 503, 'Service Unavailable');
    wss.handleUpgrade(req, socket, head, (ws) => {
      // A peer's protocol error is an 'error' event; unhandled it would end the process.
      ws.on('error', (error) => logger.debug({ err: error, ip }, 'client socket error'));
      const closeWith = (code: CloseCode, refusal?: string, closeReason?: string) => {
        if (refusal !== undefined) metrics.authFailures.inc({ reason: refusal });
        closeWithCode(ws, code, metrics, closeReason);
      };
      if (paceMs !== undefined) return closeWith(CloseCode.TryAgainLater, 'accept-rate', overload(paceMs));
      if (result === undefined) return closeWith(CloseCode.TryAgainLater, 'ip-rate');
      if (lateBlockMs !== undefined) return closeWith(CloseCode.TryAgainLater, 'failed-auth-limit', overload(lateBlockMs));
      if (!result.ok) {
        logger.info(
          { ip, reason: result.reason, tokenId: request.token === undefined ? undefined : tokenFingerprint(request.token) },
          'connection refused',
        );
        return closeWith(result.code, result.reason);
      }
      const siteId = request.siteId ?? config.defaultSiteId;
      if (!hub.hasSite(siteId)) return closeWith(CloseCode.UnknownSite, 'unknown-site');
      if (!grantAllows(result.grant, siteId)) return closeWith(CloseCode.SiteNotAllowed, 'site-not-allowed');
      if (request.fieldsError !== undefined) return closeWith(CloseCode.PolicyViolation, 'bad-fields');
      if (request.statusError !== undefined) return closeWith(CloseCode.PolicyViolation, 'bad-status');
      if (request.eventsError !== undefined || (request.events && !events)) {
        const detail = request.eventsError ?? 'events unavailable';
        return closeWith(CloseCode.PolicyViolation, 'bad-events', reasonWithDetail(CloseCode.PolicyViolation, detail));
      }
      const full = overload(fullGatewayHintMs(random));
      if (sessions.size >= config.maxConnections) return closeWith(CloseCode.TryAgainLater, 'max-connections', full);
      if (!perToken.tryAcquire(result.grant.tokenKey)) return closeWith(CloseCode.TryAgainLater, 'token-connections', full);
      attach(
        ws,
        { ip, tokenKey: result.grant.tokenKey, tokenId: tokenFingerprint(request.token as string), siteId },
        request,
        result.grant,
      );
    });
  }

  function attach(
    ws: WebSocket,
    info: ClientSession['info'],
    { fields, events: eventsRequest, status, token }: ConnectRequest,
    grant: TokenGrant,
  ): void {
    const session = new ClientSession(ws, info, {
      sendBufferLimit: config.sendBufferLimitBytes,
      metrics,
      writer,
      now,
      messageBucket: new TokenBucket(config.clientMessageRate, config.clientMessageRate * 2, now),
      onSlow: (s) => {
        metrics.slowClientCloses.inc();
        logger.warn({ ip: s.info.ip, tokenId: s.info.tokenId, site: s.info.siteId }, 'slow consumer closed');
      },
      onAuth: (s, token) => void sessionTokens.refresh(s, token),
      onClosed: (s) => {
        sessionTokens.forget(s);
        sessions.delete(s);
        shedder.closed(s);
        perToken.release(s.info.tokenKey);
        metrics.connections.dec({ site: s.info.siteId });
      },
    });
    sessions.add(session);
    sessionTokens.track(session, token as string, grant);
    metrics.connections.inc({ site: info.siteId });
    session.membership = hub.join(info.siteId, fields, session);
    logger.debug({ ip: info.ip, tokenId: info.tokenId, site: info.siteId }, 'client connected');
    if (session.membership.current !== null) session.deliver(session.membership.current);
    if (status) session.statusMembership = statuses.join(info.siteId, session);
    if (eventsRequest && events) events.accept(session, eventsRequest);
  }

  /**
   * Closes the session with 1001, now or after `delayMs` on the clock (unless
   * it is closed already), and resolves once it is. ws's closeTimeout cuts a
   * peer that does not finish the handshake, but arms nothing for a peer that
   * half-closed its TCP side first; the backstop terminates that one too, so
   * drain and dispose always end.
   */
  function closeGoingAway(session: ClientSession, delayMs: number | undefined, reconnectHint: string): Promise<void> {
    return new Promise<void>((resolve) => {
      if (session.ws.readyState === WebSocket.CLOSED) return resolve();
      const close = () => session.close(CloseCode.GoingAway, reconnectHint);
      const closeTimer = delayMs === undefined ? undefined : clock.setTimeout(close, delayMs);
      const backstop = clock.setTimeout(() => session.ws.terminate(), (delayMs ?? 0) + CLOSE_HANDSHAKE_MS);
      (backstop as { unref?: () => void }).unref?.();
      session.ws.once('close', () => {
        if (closeTimer !== undefined) clock.clearTimeout(closeTimer);
        clock.clearTimeout(backstop);
        resolve();
      });
      if (delayMs === undefined) close();
    });
  }

  function beat(): void {
    for (const session of sessions) {
      if (!session.alive) {
        logger.debug({ ip: session.info.ip }, 'terminating a peer that stopped answering pings');
        session.ws.terminate();
        continue;
      }
      session.alive = false;
      session.ws.ping();
    }
  }

  function onSnapshot(siteId: number) {
    return (bytes: Buffer) => {
      const receivedAt = now();
      const outcome = hub.accept(siteId, bytes);
      metrics.snapshotsReceived.inc({ outcome });
      if (outcome !== 'delivered') return;
      // The whole broadcast ran synchronously: this is when its last client was written.
      metrics.sendLag.observe((now() - receivedAt) / 1000);
      const snapshot = hub.snapshot(siteId);
      if (snapshot === null) return;
      metrics.lastSeq.set({ site: siteId }, snapshot.seq);
      const updatedAt = Date.parse(snapshot.updated_at);
      if (Number.isFinite(updatedAt)) metrics.contentAge.observe(Math.max(0, now() - updatedAt) / 1000);
    };
  }

  async function listen(): Promise<number> {
    // Before the port opens: without JWT_JWKS_URL's keys the gateway would refuse every signed token.
    await tokens.start();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port: config.port, host: config.host, backlog: LISTEN_BACKLOG }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    for (const warning of config.warnings) logger.warn({ docs: LOG_DOCS.startUpChecks }, warning);
    if (config.demo) logger.info('demo mode (MATOMO_LIVE_DEMO): the public demo token is accepted');
    if (addresses.hasHostNames) {
      await addresses.refreshHosts();
      proxyRefresh = clock.setInterval(() => void addresses.refreshHosts(), TRUST_PROXY_REFRESH_MS);
    }
    heartbeat = clock.setInterval(beat, config.heartbeatIntervalMs);
    readiness.watch();
    rebalancer?.start();
    metrics.feedReadiness = () => feed.isReady();
    metrics.feedStats = () => feed.stats?.();
    statuses.watch(feed);
    for (const siteId of config.siteIds) {
      const deliver = onSnapshot(siteId);
      feed.subscribe(siteId, deliver).then(
        (cached) => {
          if (cached !== null) deliver(cached);
        },
        (error: Error) => logger.warn({ site: siteId, err: error }, 'subscribe failed; the feed retries on reconnect'),
      );
    }
    const port = (server.address() as AddressInfo).port;
    logger.info({ port, tls: config.tls !== undefined, sites: config.siteIds, dashboard: dashboardDir ?? 'off' }, 'gateway listening');
    return port;
  }

  async function drain(): Promise<void> {
    if (draining || disposed) return;
    draining = true;
    const clients = [...sessions];
    logger.info({ clients: clients.length, windowMs: config.drainWindowMs }, 'draining');
    // Tell the fleet at once: nobody rebalances while clients move.
    void rebalancer?.tick();
    // Spread the closes so the clients' reconnects do not land on the other replicas at once; each close
    // asks its client to come back within half a second (the spreading is done here already).
    const step = clients.length > 1 ? config.drainWindowMs / clients.length : 0;
    await Promise.all(clients.map((session, i) => closeGoingAway(session, Math.floor(i * step), hint('drain', 0, 500))));
  }

  async function dispose(): Promise<void> {
    if (disposed) return;
    draining = true;
    disposed = true;
    if (heartbeat !== undefined) clock.clearInterval(heartbeat);
    if (proxyRefresh !== undefined) clock.clearInterval(proxyRefresh);
    tokens.stop();
    readiness.stop();
    statuses.close();
    sessionTokens.dispose();
    await rebalancer?.stop();
    await Promise.all([...sessions].map((session) => closeGoingAway(session, undefined, hint('drain', 0, 1000))));
    await events?.close();
    await new Promise<void>((resolve) => {
      if (!server.listening) return resolve();
      server.close(() => resolve());
      server.closeAllConnections();
    });
    wss.close();
  }

  return {
    listen,
    drain,
    dispose,
    isReady,
    reloadTokens: () => tokens.reload('signal'),
    tokens,
    rebalancer,
    hub,
    statuses,
    metrics,
    writer,
    events,
    get connectionCount() {
      return sessions.size;
    },
  };
}
