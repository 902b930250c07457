/**
 * Real parts for gateway tests (the gateways themselves: @matomo-live/test-support/gateway):
 * a real Redis client that publishes the way the poller does (SET the cached
 * key, PUBLISH the same bytes), real `ws` clients that record everything, and
 * plain node:http GETs.
 */
import { request, type IncomingHttpHeaders } from 'node:http';
import type Redis from 'ioredis';
import type { SnapshotContent } from '@matomo-live/protocol';
import { encodeSnapshot, loadGatewayConfig, redisNames, snapshotSeq, type GatewayConfig } from '@matomo-live/shared';
import { redisScope } from '@matomo-live/test-support/redis';

export const TOKEN = 'test-token-0123456789';

export function content(site: number, visits: number, extra: Partial<SnapshotContent> = {}): SnapshotContent {
  const day = (date: string, n: number) => ({
    visits: n,
    time_spent: '00:00:10',
    date,
    time_spent_seconds: 10,
    actions: n,
    unique_visitors: n,
    bounce_count: 0,
  });
  return {
    visits_live: [],
    summary: { today: day('2026-11-22', visits), yesterday: day('2026-11-21', 3), day_before: day('2026-11-20', 2) },
    counters: { minutes: 30, visits, actions: visits, visitors: visits, visits_converted: 0 },
    site,
    timezone: 'Europe/Paris',
    ...extra,
  };
}

/** Publishes as the poller does: cached key + state seq + channel, same bytes. */
export class TestPublisher {
  constructor(
    readonly redis: Redis,
    readonly prefix: string,
  ) {}

  async publish(site: number, seq: number, snapshot: SnapshotContent = content(site, seq)): Promise<Buffer> {
    const bytes = encodeSnapshot(snapshot, seq, new Date());
    await this.publishBytes(site, bytes);
    return bytes;
  }

  async publishBytes(site: number, bytes: Buffer | string): Promise<void> {
    const names = redisNames(this.prefix, site);
    const seq = snapshotSeq(Buffer.from(bytes));
    const stored = this.redis.multi().set(names.snapshotKey, bytes);
    if (seq !== undefined) stored.hset(names.stateKey, 'seq', String(seq));
    await stored.publish(names.snapshotChannel, bytes).exec();
  }

  /** As the poller's RedisSnapshotPublisher.publishHeartbeat does: SET the key with PX, then PUBLISH the same bytes. */
  async publishHeartbeat(site: number, heartbeat: Buffer | string, ttlMs = 15_000): Promise<void> {
    const { heartbeatKey, heartbeatChannel } = redisNames(this.prefix, site);
    await this.redis.set(heartbeatKey, heartbeat, 'PX', ttlMs);
    await this.redis.publish(heartbeatChannel, heartbeat);
  }

  async store(site: number, seq: number): Promise<Buffer> {
    const bytes = encodeSnapshot(content(site, seq), seq, new Date());
    await this.redis.set(redisNames(this.prefix, site).snapshotKey, bytes);
    return bytes;
  }
}

export function testConfig(prefix: string, redisUrl: string, env: Record<string, string> = {}): GatewayConfig {
  return loadGatewayConfig(
    { PORT: '0', HOST: '127.0.0.1', REDIS_URL: redisUrl, REDIS_PREFIX: prefix, VALID_TOKENS: TOKEN, DASHBOARD_DIR: 'off', ...env },
    { dotenv: false },
  );
}

/** A test's Redis world: a prefix of its own, a publisher on the scope's connection, and cleanup. */
export async function redisWorld(
  label: string,
): Promise<{ url: string; prefix: string; publisher: TestPublisher; close(): Promise<void> }> {
  const { url, prefix, command, close } = await redisScope(label);
  return { url, prefix, publisher: new TestPublisher(command, prefix), close };
}

/** GET over node:http (which, unlike fetch, does not follow a redirect). */
export function httpGet(
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string; headers: IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path, headers }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    })
      .on('error', reject)
      .end();
  });
}

export { TestClient } from '@matomo-live/test-support/ws-client';
