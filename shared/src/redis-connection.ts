/**
 * The one place ioredis clients are built, for all three Redis modes
 * (REDIS_URL, REDIS_SENTINELS, REDIS_CLUSTER_NODES), with the options each
 * connection needs. The options come from failover experiments with real
 * processes (ioredis 6.0.0, Redis 7): see docs/OPERATIONS.md, "Redis HA".
 */
import Redis, { Cluster, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { RedisConnectionConfig, RedisMode } from './config/redis-env';
import type { Logger } from './logger';

/** A connection in any mode: one Redis (single node or the Sentinel-chosen master) or a Cluster. */
export type RedisClient = Redis | Cluster;

/**
 * What a connection is for.
 * - `poller`: fails fast while Redis is away (no offline queue, one retry, 2 s
 *   command timeout): a tick that cannot publish fails and the next tick
 *   publishes the then-current state, instead of a backlog replaying late on a
 *   master that may have been demoted meanwhile.
 * - `gateway-command`: GETs and the seq check; waits for Redis rather than
 *   failing (offline queue on), with a 2 s command timeout so a hung master
 *   does not stall them.
 * - `gateway-subscriber`: pub/sub only; in Cluster mode one sharded
 *   subscriber connection per master (SSUBSCRIBE).
 */
export type RedisRole = 'poller' | 'gateway-command' | 'gateway-subscriber';

export interface CreateRedisClientOptions {
  /** CLIENT SETNAME, seen in CLIENT LIST. Default "matomo-live-<role>". */
  connectionName?: string;
  /** Gets the client's errors at warn level (repeats summarized), so an 'error' event can never crash the process. */
  logger: Logger;
  /** Cluster: when to refresh the slot map by itself, ms. Default 5000 (tests shorten it). */
  slotsRefreshIntervalMs?: number;
}

/**
 * Reconnect delay of every connection: 100 ms per attempt so far, at most 1 s.
 * After a Sentinel failover this cadence is the delay until clients reach the
 * new master; a 2 s cap cost ~1.8 s more in the compose measurements.
 */
export function redisRetryDelay(attempt: number): number {
  return Math.min(100 * attempt, 1000);
}

/**
 * Wait before retrying a gateway subscription (snapshots or visit events)
 * after `failures` failed attempts (0 for the first retry): 250 ms doubling,
 * at most 2 s. The connection itself reconnects on redisRetryDelay's cadence.
 */
export function resubscribeRetryDelay(failures: number): number {
  return Math.min(250 * 2 ** failures, 2000);
}

/** The command a publish uses in each mode: sharded pub/sub in a Cluster (Redis 7+), so a change is not broadcast to every node. */
export function publishCommandOf(mode: RedisMode): 'PUBLISH' | 'SPUBLISH' {
  return mode === 'cluster' ? 'SPUBLISH' : 'PUBLISH';
}

/** A client for `role` in the configured mode, with an error listener attached. Connects at once. */
export function createRedisClient(config: RedisConnectionConfig, role: RedisRole, options: CreateRedisClientOptions): RedisClient {
  const connectionName = options.connectionName ?? `matomo-live-${role}`;
  const client = build(config, role, connectionName, options.slotsRefreshIntervalMs ?? 5000);
  logRedisErrors(client, options.logger, connectionName);
  if (client instanceof SentinelRedis)
    client.onRevive = (delayMs) => options.logger.warn({ connection: connectionName, delayMs }, REVIVE_MESSAGE);
  return client;
}

function build(config: RedisConnectionConfig, role: RedisRole, connectionName: string, slotsRefreshInterval: number): RedisClient {
  const poller = role === 'poller';
  // RESP2: RESP3 buys nothing here, and RESP2 keeps the wire behaviour proxies and managed services expect.
  const common: RedisOptions = {
    protocol: 2,
    connectTimeout: 2000,
    keepAlive: 10_000,
    connectionName,
    username: config.username,
    password: config.password,
    // Without it a hung master stalled the poller's script for seconds, which then ran late on a stale master;
    // and a SUBSCRIBE that never gets its reply must not hold the gateway's re-read after a failover.
    commandTimeout: 2000,
  };
  const perRole: RedisOptions = poller
    ? { enableOfflineQueue: false, maxRetriesPerRequest: 1 }
    : { enableOfflineQueue: true, maxRetriesPerRequest: null };
  switch (config.mode) {
    case 'single':
      return new Redis(config.url, { ...common, ...perRole, retryStrategy: redisRetryDelay });
    case 'sentinel': {
      const tls = config.tls ? {} : undefined;
      return new SentinelRedis({
        ...common,
        ...perRole,
        sentinels: config.sentinels,
        name: config.masterName,
        role: 'master',
        sentinelPassword: config.sentinelPassword,
        // `tls` alone is not used for the data nodes in Sentinel mode; sentinelTLS is the sentinels' own.
        tls,
        enableTLSForSentinelMode: config.tls,
        sentinelTLS: tls,
        // Subscribes to +switch-master: without it clients stayed ~10 s on a partitioned old master.
        failoverDetector: true,
        // Without it a hung (not dead) sentinel held every reconnect forever: ioredis asks the sentinels in turn.
        sentinelCommandTimeout: 2000,
        sentinelRetryStrategy: redisRetryDelay,
        retryStrategy: redisRetryDelay,
      });
    }
    case 'cluster': {
      const clusterOptions: ClusterOptions = {
        scaleReads: 'master',
        shardedSubscribers: role === 'gateway-subscriber',
        // Not a default in fact (ioredis documents 5000 but does not set it): topology changes are noticed without an error first.
        slotsRefreshInterval,
        clusterRetryStrategy: (attempt: number) => Math.min(100 * attempt, 2000),
        enableOfflineQueue: !poller,
        // A command for a shard whose master died fails after this many tries, 100 ms apart (default 16: ~1.6 s):
        // the poller's next tick retries anyway, and its other sites' publishes need not wait that long.
        ...(poller ? { maxRedirections: 4 } : {}),
        redisOptions: {
          ...common,
          ...(poller ? { maxRetriesPerRequest: 1 } : {}),
          tls: config.tls ? {} : undefined,
        },
        // Managed clusters with TLS announce hostnames their certificates name: connect by name, not by a resolved IP.
        ...(config.tls ? { dnsLookup: (address: string, done: (err: null, address: string) => void) => done(null, address) } : {}),
      };
      return new Cluster(config.nodes, clusterOptions);
    }
  }
}

const REVIVE_MESSAGE = 'Redis client gave up reconnecting during a failover; connecting again';

/**
 * A Sentinel-mode connection that does not stay down when ioredis gives up on
 * its own. In ioredis 6.0.0, a +switch-master that reaches the failover
 * detector while a reconnect is still asking a sentinel for the master makes
 * that connect fail with "Connection is closed." and ends the client for good
 * (status "end", no retry). The failover suite hit it under load: one gateway
 * of two never resubscribed. An end right after a connect attempt that nobody
 * asked for (no disconnect()) connects again; ioredis then resubscribes and
 * emits "ready" as after any reconnect.
 */
class SentinelRedis extends Redis {
  /** Called before each restart, with its delay. */
  onRevive: (delayMs: number) => void = () => undefined;
  private closeRequested = false;
  private connectingWithoutStream = false;
  private revivals = 0;

  constructor(options: Omit<RedisOptions, 'replyMapping'>) {
    super(options);
    this.on('connecting', () => (this.connectingWithoutStream = true));
    for (const event of ['connect', 'close']) this.on(event, () => (this.connectingWithoutStream = false));
    this.on('ready', () => (this.revivals = 0));
    this.on('end', () => {
      if (this.closeRequested || !this.connectingWithoutStream) return;
      const delayMs = redisRetryDelay(++this.revivals);
      this.onRevive(delayMs);
      setTimeout(() => {
        if (this.status === 'end' && !this.closeRequested) this.connect().catch(() => undefined);
      }, delayMs).unref();
    });
  }

  override disconnect(reconnect = false): void {
    // QUIT ends through a closed stream, never right after a connect attempt, so only disconnect() needs marking.
    if (!reconnect) this.closeRequested = true;
    super.disconnect(reconnect);
  }
}

/** How often one distinct error message is logged per client at most, ms; repeats in between are counted. */
const ERROR_LOG_EVERY_MS = 60_000;

/**
 * Logs a client's errors at warn with the error object: one line per outage
 * and distinct message. An unreachable Redis repeats its error at every
 * reconnect attempt (10 a second), and a Cluster emits one per failed
 * sharded-subscriber connect (dozens per failover), so a message seen again
 * within a minute is only counted, and summarized with its next line; when
 * the connection is ready again after errors, one info line says so.
 */
export function logRedisErrors(client: RedisClient, logger: Logger, connection: string, now: () => number = Date.now): void {
  const last = new Map<string, { at: number; suppressed: number }>();
  let outage: { since: number; errors: number } | undefined;
  client.on('ready', () => {
    if (outage === undefined) return;
    logger.info({ connection, errors: outage.errors, downMs: now() - outage.since }, 'Redis connection back');
    outage = undefined;
    last.clear();
  });
  client.on('error', (error: Error) => {
    outage ??= { since: now(), errors: 0 };
    outage.errors++;
    const seen = last.get(error.message);
    const at = now();
    if (seen !== undefined && at - seen.at < ERROR_LOG_EVERY_MS) {
      seen.suppressed++;
      return;
    }
    const repeated = seen?.suppressed ?? 0;
    last.set(error.message, { at, suppressed: 0 });
    if (last.size > 100) last.delete(last.keys().next().value as string);
    logger.warn({ err: error, connection, ...(repeated > 0 ? { repeatedSinceLastLine: repeated } : {}) }, 'Redis error');
  });
}

/** Closes a client: QUIT (pending replies arrive), or a plain disconnect when that fails. */
export async function closeRedisClient(client: RedisClient): Promise<void> {
  await client.quit().catch(() => client.disconnect());
}
