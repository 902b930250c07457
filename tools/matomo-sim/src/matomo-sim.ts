import { EventEmitter, once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import { handleControl } from './control-api';
import {
  AUTH_ERROR_MESSAGE,
  BLOCKED_MESSAGE,
  FaultQueue,
  HTML_LOGIN_PAGE,
  htmlErrorPage,
  parseFault,
  SUB_ERROR_MESSAGE,
  type Fault,
  type FaultInput,
} from './faults';
import { callMethod, matomoError, noAccessError } from './matomo-api';
import { bump, emptyStats, redactToken, type RequestRecord, type SimStats } from './request-stats';
import { definedOnly, SimData, type SiteInput, type SummaryInput } from './sim-data';
import { toMatomoVisit, type SimVisitInput } from './sim-visit';
import { seededRandom } from './synthetic-visits';

export interface MatomoSimOptions {
  /** TCP port; 0 picks a free one. Default 0. */
  port?: number;
  /** Listen address. Default "127.0.0.1". */
  host?: string;
  /** The only token_auth accepted. Default "demo-matomo-token". */
  token?: string;
  /** Sites that exist. Default [1]. */
  siteIds?: number[];
  /** Timezone of every site (IANA or "UTC+3"); change one with setSite(). Default "Europe/Paris". */
  timezone?: string;
  /** Adds a synthetic visit to a random site every this many ms; 0 = never. Default 0. */
  visitEveryMs?: number;
  /** Fills yesterday's and the day before's totals and adds a few visits at start (the demo). Default false. */
  seedHistory?: boolean;
  /** Seed of the synthetic data. Default 1. */
  seed?: number;
  /** The clock (ms since epoch) used for "today", counters and new visits. Default Date.now. */
  now?: () => number;
  /** Refuse requests carrying token_auth in the URL, as Matomo 5 does for secure-only tokens. Default true. */
  refuseTokenInUrl?: boolean;
  /** Serve the `/_sim/` control API. Default true. */
  controlApi?: boolean;
  /** How many requests stats().recent keeps. Default 50. */
  keepRecent?: number;
  /**
   * Matomo's brute-force detection: after more than `maxFailures` refused
   * tokens within `windowMs` (by the simulator's clock), every API request
   * carrying a token gets HTTP 500 "Too many failed logins" until old
   * failures leave the window; refused requests while blocked are not
   * recorded. false turns it off. Default { maxFailures: 20, windowMs: 3600000 } (Matomo's defaults).
   */
  bruteForce?: { maxFailures: number; windowMs: number } | false;
}

export interface MatomoSim {
  /** Base URL ending in "/", e.g. "http://127.0.0.1:40123/" (what MATOMO_URL takes). */
  readonly url: string;
  readonly port: number;
  /** Adds a visit now (fields default to synthetic values) and counts it in its day's totals; returns it as Live answers it. */
  addVisit(input?: SimVisitInput): Record<string, unknown>;
  /** Another hit on a visit now: `actions` more (default 1; 0 = a content impression), a later last action. Returns it as Live answers it. */
  updateVisit(idVisit: number, update?: { actions?: number; lastActionTimestamp?: number }): Record<string, unknown>;
  /** Replaces days' VisitsSummary totals (null = a day without data). */
  setSummary(input: SummaryInput): void;
  /** Adds a site or changes its timezone/name. */
  setSite(input: SiteInput): void;
  /** Queues a fault for the next API request(s), or for the next matching sub-request(s). */
  injectFault(input: FaultInput): void;
  clearFaults(): void;
  /** Forgets recorded token failures (what `console login:unblock-blocked-ips` does). */
  unblock(): void;
  /** A copy of the counters and recent requests. */
  stats(): SimStats;
  /** Resolves once stats().requests ≥ `count` (rejects after `timeoutMs`, default 10000). */
  waitForRequests(count: number, timeoutMs?: number): Promise<void>;
  /** Forgets visits, totals, faults and stats; sites return to the options' ones. */
  reset(): void;
  /** Emits "request" (RequestRecord) after each API request is recorded. */
  readonly events: EventEmitter;
  /** Stops listening and cuts every open connection (hung ones included). */
  close(): Promise<void>;
}

const DEFAULTS = {
  port: 0,
  host: '127.0.0.1',
  token: 'demo-matomo-token',
  siteIds: [1],
  timezone: 'Europe/Paris',
  visitEveryMs: 0,
  seedHistory: false,
  seed: 1,
  now: Date.now,
  refuseTokenInUrl: true,
  controlApi: true,
  keepRecent: 50,
  bruteForce: { maxFailures: 20, windowMs: 3_600_000 },
} satisfies Required<MatomoSimOptions>;

const MAX_BODY_BYTES = 1 << 20;

/** Starts a simulated Matomo on a real HTTP port. */
export async function startMatomoSim(options: MatomoSimOptions = {}): Promise<MatomoSim> {
  const sim = new Simulator({ ...DEFAULTS, ...definedOnly(options) });
  await sim.listen();
  return sim;
}

class Simulator implements MatomoSim {
  readonly events = new EventEmitter();
  private readonly data: SimData;
  private readonly faults = new FaultQueue();
  private counters: SimStats = emptyStats();
  /** When each recorded token failure happened (simulator clock, ms), for the brute-force model. */
  private tokenFailures: number[] = [];
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private visitTimer: NodeJS.Timeout | undefined;
  private reopenTimer: NodeJS.Timeout | undefined;
  private boundPort = 0;
  private closed = false;

  constructor(private readonly options: Required<MatomoSimOptions>) {
    this.data = new SimData(options.now, seededRandom(options.seed), options.timezone);
    this.populate();
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 60_000;
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    this.events.setMaxListeners(0);
  }

  get port(): number {
    return this.boundPort;
  }

  get url(): string {
    const host = this.options.host.includes(':') ? `[${this.options.host}]` : this.options.host;
    return `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${this.boundPort}/`;
  }

  async listen(): Promise<void> {
    this.server.listen(this.boundPort || this.options.port, this.options.host);
    await once(this.server, 'listening');
    this.boundPort = (this.server.address() as AddressInfo).port;
    if (this.options.visitEveryMs > 0 && !this.visitTimer) {
      this.visitTimer = setInterval(() => this.addRandomVisit(), this.options.visitEveryMs);
      this.visitTimer.unref();
    }
  }

  addVisit(input: SimVisitInput = {}): Record<string, unknown> {
    const visit = this.data.addVisit(input);
    return toMatomoVisit(visit, this.data.site(visit.idSite)!, true);
  }

  updateVisit(idVisit: number, update: { actions?: number; lastActionTimestamp?: number } = {}): Record<string, unknown> {
    const visit = this.data.updateVisit(idVisit, update);
    return toMatomoVisit(visit, this.data.site(visit.idSite)!, true);
  }

  setSummary(input: SummaryInput): void {
    this.data.setSummary(input);
  }

  setSite(input: SiteInput): void {
    this.data.upsertSite(input);
  }

  injectFault(input: FaultInput): void {
    const fault = parseFault(input);
    if (fault.kind === 'refused') this.refuseConnections(fault.durationMs);
    else this.faults.add(fault);
  }

  clearFaults(): void {
    this.faults.clear();
    if (this.reopenTimer) {
      clearTimeout(this.reopenTimer);
      this.reopenTimer = undefined;
      void this.listen();
    }
  }

  unblock(): void {
    this.tokenFailures = [];
  }

  stats(): SimStats {
    return structuredClone(this.counters);
  }

  async waitForRequests(count: number, timeoutMs = 10_000): Promise<void> {
    if (this.counters.requests >= count) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.events.off('request', check);
        reject(new Error(`matomo-sim: waited ${timeoutMs} ms for ${count} requests, saw ${this.counters.requests}`));
      }, timeoutMs);
      const check = (): void => {
        if (this.counters.requests < count) return;
        clearTimeout(timer);
        this.events.off('request', check);
        resolve();
      };
      this.events.on('request', check);
    });
  }

  reset(): void {
    this.data.clear();
    this.data.sites.clear();
    this.faults.clear();
    this.counters = emptyStats();
    this.tokenFailures = [];
    this.populate();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.visitTimer);
    clearTimeout(this.reopenTimer);
    for (const socket of this.sockets) socket.destroy();
    if (this.server.listening) {
      const closed = once(this.server, 'close');
      this.server.close();
      await closed;
    }
  }

  private populate(): void {
    for (const siteId of this.options.siteIds) this.data.upsertSite({ siteId, timezone: this.options.timezone });
    if (!this.options.seedHistory) return;
    const random = seededRandom(this.options.seed + 1);
    for (const siteId of this.options.siteIds) {
      const totals = (scale: number) => {
        const visits = Math.round(scale * (0.8 + random() * 0.4));
        return { nb_visits: visits, nb_actions: visits * 3, sum_visit_length: visits * 95, bounce_count: Math.round(visits * 0.4) };
      };
      this.data.setSummary({ siteId, yesterday: totals(420), day_before: totals(380) });
      const now = Math.floor(this.options.now() / 1000);
      for (let i = 5; i > 0; i--) this.data.addVisit({ siteId, lastActionTimestamp: now - i * 90 });
    }
  }

  private addRandomVisit(): void {
    const ids = [...this.data.sites.keys()];
    const siteId = ids[Math.floor(Math.random() * ids.length)]!;
    this.data.addVisit({ siteId });
    this.data.prune(2 * 86_400);
  }

  /** Closes the port (ECONNREFUSED for clients) for `durationMs`, cutting open connections. */
  private refuseConnections(durationMs: number): void {
    if (this.reopenTimer || this.closed) return;
    this.server.close();
    for (const socket of this.sockets) socket.destroy();
    bump(this.counters.faultsServed, 'refused');
    this.reopenTimer = setTimeout(() => {
      this.reopenTimer = undefined;
      if (!this.closed) void this.listen();
    }, durationMs);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body: string;
    try {
      body = await readBody(req);
    } catch {
      res.writeHead(413).end();
      return;
    }
    const url = new URL(req.url ?? '/', 'http://sim');
    if (url.pathname.startsWith('/_sim/')) {
      if (!this.options.controlApi) return void res.writeHead(404).end();
      return handleControl(this, req.method ?? 'GET', url.pathname, body, res);
    }
    if (url.pathname !== '/' && url.pathname !== '/index.php')
      return void res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found');
    this.serveApi(req, res, url, body);
  }

  private serveApi(req: IncomingMessage, res: ServerResponse, url: URL, body: string): void {
    const form = new URLSearchParams(req.method === 'POST' ? body : '');
    // Matomo merges GET and POST parameters, POST winning.
    const params = new URLSearchParams(url.searchParams);
    for (const [k, v] of form) params.set(k, v);
    const method = params.get('method') ?? '';
    const subUrls = method === 'API.getBulkRequest' ? bulkUrls(form.size > 0 ? form : url.searchParams) : [];
    const methods = method === 'API.getBulkRequest' ? subUrls.map((u) => new URLSearchParams(u).get('method') ?? '') : [method];
    const record: RequestRecord = {
      at: new Date(this.options.now()).toISOString(),
      httpMethod: req.method ?? 'GET',
      url: redactToken(req.url ?? '/'),
      body: redactToken(body),
      methods,
      tokenInBody: form.has('token_auth'),
      tokenInUrl: url.searchParams.has('token_auth'),
    };
    this.record(record, method === 'API.getBulkRequest');
    // Clients may read Matomo's clock from the Date header: it is the simulator's clock, as real Matomo's is its server's.
    res.setHeader('date', new Date(this.options.now()).toUTCString());
    // Matomo renders errors in the format asked for in the URL; a format only in the POST body is not known yet
    // when authentication fails, so those errors come as its HTML error page.
    const jsonErrors = (url.searchParams.get('format') ?? '').toLowerCase() === 'json';
    const refuse = (status: number, message: string): void =>
      jsonErrors ? sendJson(res, status, matomoError(message)) : send(res, status, htmlErrorPage(message), 'text/html; charset=utf-8');

    const fault = this.faults.take();
    if (fault && this.serveFault(fault, res, refuse)) return;

    if (params.get('module') !== 'API') return void send(res, 200, HTML_LOGIN_PAGE, 'text/html; charset=utf-8');
    const token = params.get('token_auth');
    if (token !== null && this.blocked()) return refuse(500, BLOCKED_MESSAGE);
    if (record.tokenInUrl && this.options.refuseTokenInUrl) {
      this.refuseToken();
      return refuse(401, `${AUTH_ERROR_MESSAGE} (token_auth was sent in the URL; send it in the POST body.)`);
    }
    if (token !== null && !this.tokenAccepted(token)) {
      this.refuseToken();
      return refuse(401, AUTH_ERROR_MESSAGE);
    }
    if ((params.get('format') ?? 'xml').toLowerCase() !== 'json') {
      return void sendJson(res, 200, matomoError('matomo-sim answers format=json only'));
    }
    // No token at all: anonymous access, which has no view access here. Inside a bulk request each part says so.
    if (token === null && method !== 'API.getBulkRequest') return void sendJson(res, 401, noAccessError(params));
    sendJson(res, 200, this.answer(params, subUrls, token !== null));
  }

  private answer(params: URLSearchParams, subUrls: string[], authenticated: boolean): unknown {
    const now = this.options.now();
    const call = (p: URLSearchParams): unknown => (authenticated ? this.callWithFaults(p, now) : noAccessError(p));
    if (params.get('method') !== 'API.getBulkRequest') return call(params);
    if (subUrls.length === 0) return matomoError('API.getBulkRequest: no urls[] given');
    return subUrls.map((u) => call(new URLSearchParams(u)));
  }

  /** One API call, unless a sub-request fault waits for it. */
  private callWithFaults(params: URLSearchParams, now: number): unknown {
    const fault = this.faults.takeFor(params);
    if (!fault) return callMethod(params, this.data, now);
    bump(this.counters.faultsServed, fault.kind);
    return fault.kind === 'sub-error' ? matomoError(fault.message ?? SUB_ERROR_MESSAGE) : { value: 'unexpected' };
  }

  /** Counts a refused token, and records it for brute-force detection. */
  private refuseToken(): void {
    this.counters.authFailures++;
    if (this.options.bruteForce) this.tokenFailures.push(this.options.now());
  }

  /** Matomo's rule: allowed while at most maxFailures failures are recorded within the window. */
  private blocked(): boolean {
    const limit = this.options.bruteForce;
    if (!limit) return false;
    const since = this.options.now() - limit.windowMs;
    this.tokenFailures = this.tokenFailures.filter((at) => at > since);
    return this.tokenFailures.length > limit.maxFailures;
  }

  private record(record: RequestRecord, bulk: boolean): void {
    this.counters.requests++;
    if (bulk) this.counters.bulkRequests++;
    for (const m of record.methods) bump(this.counters.subRequests, m);
    if (record.tokenInUrl) this.counters.tokenInUrl++;
    this.counters.recent.push(record);
    if (this.counters.recent.length > this.options.keepRecent) this.counters.recent.shift();
    this.events.emit('request', record);
  }

  /** Serves a whole-request `fault`; false when it does not apply (then the normal answer follows). */
  private serveFault(fault: Fault, res: ServerResponse, refuse: (status: number, message: string) => void): boolean {
    bump(this.counters.faultsServed, fault.kind);
    switch (fault.kind) {
      case 'http-5xx':
        send(res, fault.status, `<html><body><h1>${fault.status} Service Unavailable</h1></body></html>`, 'text/html');
        return true;
      case 'timeout':
        return true; // Never answered; close() or the client's timeout ends it.
      case 'reset':
        res.socket?.resetAndDestroy();
        return true;
      case 'invalid-json':
        send(res, 200, '[{"visits":3,"actions":', 'application/json; charset=utf-8');
        return true;
      case 'html-login':
        send(res, 200, HTML_LOGIN_PAGE, 'text/html; charset=utf-8');
        return true;
      case 'error':
        sendJson(res, 200, matomoError(fault.message ?? 'Mysql error: SQLSTATE[HY000] [2002] Connection refused'));
        return true;
      case 'auth':
        refuse(401, AUTH_ERROR_MESSAGE);
        return true;
      case 'auth-blocked':
        refuse(500, BLOCKED_MESSAGE);
        return true;
      default:
        return false;
    }
  }

  private tokenAccepted(token: string): boolean {
    const a = Buffer.from(token);
    const b = Buffer.from(this.options.token);
    return a.length === b.length && timingSafeEqual(a, b);
  }
}

/** `urls[0]`, `urls[1]`, … (or `urls[]`) in index order. */
function bulkUrls(form: URLSearchParams): string[] {
  const indexed: Array<[number, string]> = [];
  let next = 0;
  for (const [k, v] of form) {
    const m = /^urls\[(\d*)\]$/.exec(k);
    if (m) indexed.push([m[1] === '' ? next++ : Number(m[1]), v]);
  }
  return indexed.sort((a, b) => a[0] - b[0]).map(([, v]) => v);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new Error('body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, status: number, body: string, contentType: string): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) }).end(body);
}

/** Matomo's JSON: PHP's json_encode escapes "/" as "\/". */
function sendJson(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, JSON.stringify(value).replace(/\//g, '\\/'), 'application/json; charset=utf-8');
}
