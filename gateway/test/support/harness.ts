/**
 * Real parts for gateway tests (the gateways themselves: @test-support/gateway):
 * a real Redis client that publishes the way the poller does (SET the cached
 * key, PUBLISH the same bytes), real `ws` clients that record everything, and
 * plain node:http GETs.
 */
import { request, type IncomingHttpHeaders } from 'node:http';
import type Redis from 'ioredis';
import WebSocket from 'ws';
import { encodeSnapshot, loadGatewayConfig, redisNames, type GatewayConfig, type SnapshotContent } from '@matomo-live/shared';
import { redisScope } from '@test-support/redis';
import { waitFor } from '@test-support/wait-for';

export const TOKEN = 'test-token-0123456789';

export function content(site: number, visits: number, extra: Partial<SnapshotContent> = {}): SnapshotContent {
  const day = (date: string, n: number) => ({ visits: n, time_spent: '00:00:10', date, time_spent_seconds: 10, actions: n, unique_visitors: n, bounce_count: 0 });
  return {
    visits_live: [],
    summary: { today: day('2026-11-22', visits), yesterday: day('2026-11-21', 3), day_before: day('2026-11-20', 2) },
    counters: { minutes: 30, visits, actions: visits, visitors: visits, visits_converted: 0 },
    site,
    timezone: 'Europe/Paris',
    ...extra,
  };
}

/** Publishes as the poller does: cached key + channel, same bytes. */
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
    await this.redis.multi().set(names.snapshotKey, bytes).publish(names.snapshotChannel, bytes).exec();
  }

  async store(site: number, seq: number): Promise<Buffer> {
    const bytes = encodeSnapshot(content(site, seq), seq, new Date());
    await this.redis.set(redisNames(this.prefix, site).snapshotKey, bytes);
    return bytes;
  }
}

export function testConfig(prefix: string, redisUrl: string, env: Record<string, string> = {}): GatewayConfig {
  return loadGatewayConfig({ PORT: '0', HOST: '127.0.0.1', REDIS_URL: redisUrl, REDIS_PREFIX: prefix, VALID_TOKENS: TOKEN, DASHBOARD_DIR: 'off', ...env }, { dotenv: false });
}

/** A test's Redis world: a prefix of its own, a publisher on the scope's connection, and cleanup. */
export async function redisWorld(label: string): Promise<{ url: string; prefix: string; publisher: TestPublisher; close(): Promise<void> }> {
  const { url, prefix, command, close } = await redisScope(label);
  return { url, prefix, publisher: new TestPublisher(command, prefix), close };
}

/** GET over node:http (which, unlike fetch, does not follow a redirect). */
export function httpGet(port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: IncomingHttpHeaders }> {
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

/** A real client recording messages and its close. */
export class TestClient {
  readonly messages: string[] = [];
  closeCode: number | undefined;
  closeReason = '';
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number; reason: string }>;
  private waiters: Array<() => void> = [];

  constructor(
    readonly ws: WebSocket,
  ) {
    ws.on('message', (data) => {
      this.messages.push(data.toString());
      this.wake();
    });
    ws.on('error', () => undefined);
    this.opened = new Promise((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('close', () => reject(new Error('closed before open')));
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
    this.opened.catch(() => undefined);
    this.closed = new Promise((resolve) => {
      ws.once('close', (code, reason) => {
        this.closeCode = code;
        this.closeReason = reason.toString();
        this.wake();
        resolve({ code, reason: reason.toString() });
      });
    });
  }

  static connect(url: string, options: WebSocket.ClientOptions & { protocols?: string[] } = {}): TestClient {
    return new TestClient(new WebSocket(url, options.protocols ?? [], options));
  }

  json(i: number): Record<string, unknown> {
    return JSON.parse(this.messages[i] as string) as Record<string, unknown>;
  }

  /** Resolves once `count` messages have arrived. */
  async nextMessages(count: number, timeoutMs = 10_000): Promise<string[]> {
    await this.until(() => this.messages.length >= count, `${count} messages (have ${this.messages.length})`, timeoutMs);
    return this.messages.slice(0, count);
  }

  async until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    await waitFor(condition, what, timeoutMs, { subscribe: (wake) => this.waiters.push(wake) });
  }

  close(): void {
    this.ws.close();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
