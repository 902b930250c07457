/**
 * The whole system on a Redis Sentinel or Cluster, for the failover suites
 * (redis-*-failover.e2e.test.ts): the Matomo simulator (2 sites), two real
 * poller processes (one leads each site, the other stands by), two real
 * gateway processes, and real WebSocket clients spread over both gateways and
 * both sites. A steady stream of changes (one new visit per site per second,
 * each with a unique city) runs while a test kills a Redis master; the stack
 * records what every client received and when, and what each poller
 * published and when it led.
 */
import { randomBytes } from 'node:crypto';
import { startMatomoSim, type MatomoSim } from '@matomo-live/matomo-sim';
import { freePort } from '@matomo-live/test-support/net';
import { buildWorkspace, REPO_ROOT, startService, waitForHttpOk, type ServiceProcess } from '@matomo-live/test-support/processes';
import { waitFor } from '@matomo-live/test-support/wait-for';
import { TestClient } from '@matomo-live/test-support/ws-client';
import { join } from 'node:path';

export const SITES = [1, 2] as const;
const SIM_TOKEN = `failover-sim-${randomBytes(6).toString('hex')}`;
const CLIENT_TOKEN = `failover-client-${randomBytes(6).toString('hex')}`;

export interface StackOptions {
  /** REDIS_SENTINELS / REDIS_CLUSTER_NODES (and passwords) of the topology. */
  redisEnv: Record<string, string>;
  clients?: number;
  gateways?: number;
  pollers?: number;
}

interface Received {
  at: number;
  seq: number;
  cities: string[];
}

/** A client that keeps, for each message, when it came, its seq and the cities of its visits. */
export class RecordingClient {
  readonly received: Received[] = [];
  readonly client: TestClient;

  constructor(
    readonly site: number,
    url: string,
  ) {
    this.client = TestClient.connect(url);
    this.client.ws.on('message', (data) => {
      const message = JSON.parse(data.toString()) as { seq: number; visits_live: Array<{ city?: string }> };
      this.received.push({ at: Date.now(), seq: message.seq, cities: message.visits_live.map((v) => v.city ?? '') });
    });
  }

  /** When this client first got a snapshot with `city`, or undefined. */
  sawAt(city: string): number | undefined {
    return this.received.find((r) => r.cities.includes(city))?.at;
  }

  seqs(): number[] {
    return this.received.map((r) => r.seq);
  }
}

export interface Change {
  site: number;
  index: number;
  city: string;
  postedAt: number;
}

export interface PollerLogLine {
  poller: number;
  time: number;
  msg: string;
  siteId?: number;
  seq?: number;
}

export class FailoverStack {
  readonly changes: Change[] = [];
  private changeTimer: NodeJS.Timeout | undefined;
  private readonly tag = randomBytes(3).toString('hex');

  private constructor(
    readonly sim: MatomoSim,
    readonly pollers: ServiceProcess[],
    readonly gateways: Array<{ service: ServiceProcess; port: number }>,
    readonly clients: RecordingClient[],
  ) {}

  /** Builds the services (tsc -b, a no-op when up to date) and starts everything; resolves once every client has its first snapshot. */
  static async start({ redisEnv, clients = 40, gateways = 2, pollers = 2 }: StackOptions): Promise<FailoverStack> {
    buildWorkspace(join(REPO_ROOT, 'poller'));
    buildWorkspace(join(REPO_ROOT, 'gateway'));
    const sim = await startMatomoSim({ token: SIM_TOKEN, siteIds: [...SITES], timezone: 'Europe/Paris' });
    const started: ServiceProcess[] = [];
    try {
      const pollerProcs = Array.from({ length: pollers }, () =>
        startService('poller/dist/main.js', {
          ...redisEnv,
          MATOMO_URL: sim.url,
          MATOMO_TOKEN: SIM_TOKEN,
          MATOMO_SITE_IDS: SITES.join(','),
          FETCH_INTERVAL: '250',
          SUMMARY_INTERVAL: '60000',
          // Every change of the run stays in each snapshot: a client that missed messages still shows what it missed.
          LIVE_LIMIT: '40',
          POLLER_HEALTH_PORT: '0',
          // "published" and lease lines are what the fencing check reads.
          LOG_LEVEL: 'debug',
        }),
      );
      started.push(...pollerProcs);
      const gatewayProcs = await Promise.all(
        Array.from({ length: gateways }, async () => {
          const port = await freePort();
          const service = startService('gateway/dist/main.js', {
            ...redisEnv,
            PORT: String(port),
            HOST: '127.0.0.1',
            VALID_TOKENS: CLIENT_TOKEN,
            MATOMO_SITE_IDS: SITES.join(','),
            DASHBOARD_DIR: 'off',
            LOG_LEVEL: 'info',
          });
          started.push(service);
          await waitForHttpOk(`http://127.0.0.1:${port}/readyz`, service, 30_000);
          return { service, port };
        }),
      );
      const recording = Array.from({ length: clients }, (_, i) => {
        const site = SITES[i % SITES.length]!;
        const gateway = gatewayProcs[Math.floor(i / SITES.length) % gatewayProcs.length]!;
        return new RecordingClient(site, `ws://127.0.0.1:${gateway.port}/?token=${CLIENT_TOKEN}&site=${site}`);
      });
      const stack = new FailoverStack(sim, pollerProcs, gatewayProcs, recording);
      await waitFor(() => recording.every((c) => c.received.length > 0), 'every client to get its first snapshot', 30_000);
      return stack;
    } catch (error) {
      await Promise.all(started.map((s) => s.kill()));
      await sim.close();
      throw error;
    }
  }

  /** One new visit per site every `everyMs`, each with its own city. */
  startChanges(everyMs = 1000): void {
    const post = () => {
      for (const site of SITES) {
        const index = this.changes.filter((c) => c.site === site).length + 1;
        const city = `F-${this.tag}-${site}-${index}`;
        this.sim.addVisit({ siteId: site, city, latitude: 48.85, longitude: 2.35 });
        this.changes.push({ site, index, city, postedAt: Date.now() });
      }
    };
    post();
    this.changeTimer = setInterval(post, everyMs);
  }

  stopChanges(): void {
    clearInterval(this.changeTimer);
  }

  clientsOf(site: number): RecordingClient[] {
    return this.clients.filter((c) => c.site === site);
  }

  /** Resolves when every client of each site has a snapshot with that site's latest change so far. */
  async everyClientHasLatest(timeoutMs: number): Promise<void> {
    const latest = SITES.map((site) => this.changes.filter((c) => c.site === site).pop()!);
    await waitFor(
      () => latest.every((change) => this.clientsOf(change.site).every((c) => c.sawAt(change.city) !== undefined)),
      `every client to get ${latest.map((c) => c.city).join(' and ')}`,
      timeoutMs,
    );
  }

  /**
   * When the last client of `site` got the first change posted at or after `since`,
   * waiting up to `timeoutMs`: the "next change delivered to all" instant.
   */
  async nextChangeDeliveredToAll(site: number, since: number, timeoutMs: number): Promise<{ change: Change; at: number }> {
    const change = await waitFor(
      () => this.changes.find((c) => c.site === site && c.postedAt >= since),
      `a change of site ${site} after the kill`,
      timeoutMs,
    );
    const clients = this.clientsOf(site);
    // Any later change counts too: a snapshot carries every earlier visit (LIVE_LIMIT), so it delivers this one.
    const firstAt = (c: RecordingClient) => c.received.find((r) => r.cities.includes(change.city))?.at;
    await waitFor(() => clients.every((c) => firstAt(c) !== undefined), `every client of site ${site} to get ${change.city}`, timeoutMs);
    return { change, at: Math.max(...clients.map((c) => firstAt(c)!)) };
  }

  /** The pollers' JSON log lines, parsed (the `poller` field says whose). */
  pollerLog(): PollerLogLine[] {
    return this.pollers.flatMap((p, poller) =>
      p
        .output()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => ({ poller, ...(JSON.parse(line) as Omit<PollerLogLine, 'poller'>) })),
    );
  }

  /** The last lines of every service's output (the pollers' "published" lines left out), for a failure message. */
  diagnostics(lines = 25): string {
    const tail = (name: string, text: string) =>
      `--- ${name} ---\n${text
        .split('\n')
        .filter((l) => !l.includes('"msg":"published"'))
        .slice(-lines)
        .join('\n')}`;
    return [
      ...this.pollers.map((p, i) => tail(`poller ${i}`, p.output())),
      ...this.gateways.map((g, i) => tail(`gateway ${i}`, g.service.output())),
      `--- clients: ${this.clients.map((c) => `${c.site}:${c.received.length}`).join(' ')}`,
    ].join('\n');
  }

  async gatewayMetrics(): Promise<string[]> {
    return Promise.all(this.gateways.map(async (g) => (await fetch(`http://127.0.0.1:${g.port}/metrics`)).text()));
  }

  async stop(): Promise<void> {
    this.stopChanges();
    for (const c of this.clients) c.client.ws.terminate();
    await Promise.all([...this.gateways.map((g) => g.service.kill()), ...this.pollers.map((p) => p.kill())]);
    await this.sim.close();
  }
}

/**
 * Fencing seen from the outside: per site, the publishes (in seq order) may
 * change hands only when a poller took the lease ("leading this site").
 * Without fencing, two pollers that both believe they lead alternate their
 * publishes many times while the lease changed hands rarely.
 */
export function fencingProblems(log: PollerLogLine[]): string[] {
  const problems: string[] = [];
  for (const site of SITES) {
    const publishes = log.filter((l) => l.msg === 'published' && l.siteId === site).sort((a, b) => a.seq! - b.seq!);
    const seqs = publishes.map((p) => p.seq);
    if (new Set(seqs).size !== seqs.length) problems.push(`site ${site}: a seq was published twice`);
    let handovers = 0;
    for (let i = 1; i < publishes.length; i++) if (publishes[i]!.poller !== publishes[i - 1]!.poller) handovers++;
    const acquisitions = log.filter((l) => l.msg === 'leading this site' && l.siteId === site).length;
    if (publishes.length === 0) problems.push(`site ${site}: nothing was published`);
    if (handovers > Math.max(0, acquisitions - 1)) {
      problems.push(`site ${site}: publishes changed hands ${handovers} times but the lease only ${acquisitions - 1} times`);
    }
  }
  return problems;
}

export interface FailoverResult {
  killedAt: number;
  promotedAt: number;
  /** Per site: when the first change posted after the kill had reached every client of the site. */
  next: Array<{ site: number; city: string; deliveredAt: number; afterKillMs: number; afterPromotionMs: number }>;
}

/**
 * Changes every second; once every client has the latest, `kill` kills a
 * master (resolving after the promotion). Then the first change of each site
 * posted after the kill must reach all its clients; three more rounds of
 * changes follow, and the run ends when every client has the last one.
 */
export async function runFailover(
  stack: FailoverStack,
  kill: (onKilled: (at: number) => void) => Promise<{ killedAt: number; promotedAt: number }>,
): Promise<FailoverResult> {
  stack.startChanges(1000);
  await stack.everyClientHasLatest(30_000);
  const { killedAt, promotedAt } = await kill(() => undefined);
  const next = await Promise.all(SITES.map((site) => stack.nextChangeDeliveredToAll(site, killedAt, 60_000))).catch((error: Error) => {
    throw new Error(`${error.message}\n${stack.diagnostics()}`, { cause: error });
  });
  const recovered = Math.max(...next.map((n) => n.at));
  await waitFor(
    () => stack.changes.filter((c) => c.postedAt > recovered).length >= 3 * SITES.length,
    'three more rounds of changes',
    30_000,
  );
  stack.stopChanges();
  await stack.everyClientHasLatest(30_000);
  return {
    killedAt,
    promotedAt,
    next: next.map(({ change, at }) => ({
      site: change.site,
      city: change.city,
      deliveredAt: at,
      afterKillMs: at - killedAt,
      afterPromotionMs: at - promotedAt,
    })),
  };
}

/** What the failover suites assert, as a list of problems (empty: all held). */
export function failoverProblems(stack: FailoverStack, result: FailoverResult): string[] {
  const problems: string[] = [];
  const closed = stack.clients.filter((c) => c.client.closeCode !== undefined);
  if (closed.length > 0)
    problems.push(`${closed.length} clients were disconnected (codes ${closed.map((c) => c.client.closeCode).join(',')})`);
  for (const [i, c] of stack.clients.entries()) {
    const seqs = c.seqs();
    if (seqs.some((seq, j) => j > 0 && seq <= seqs[j - 1]!))
      problems.push(`client ${i} (site ${c.site}): seq did not only grow: ${seqs.join(',')}`);
    const missed = stack.changes.filter((change) => change.site === c.site && c.sawAt(change.city) === undefined);
    if (missed.length > 0) problems.push(`client ${i} (site ${c.site}) missed ${missed.map((m) => m.city).join(', ')}`);
  }
  for (const n of result.next) {
    if (n.afterKillMs > 10_000)
      problems.push(`site ${n.site}: the next change reached every client ${n.afterKillMs} ms after the kill (> 10 s)`);
    if (n.afterPromotionMs > 5_000) {
      problems.push(`site ${n.site}: the next change reached every client ${n.afterPromotionMs} ms after the promotion (> 5 s)`);
    }
  }
  return [...problems, ...fencingProblems(stack.pollerLog())];
}
