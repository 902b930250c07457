/**
 * What must keep holding (issue 20): 200 clients that ask for a full replay
 * of the visit events and never read raise a gateway's memory by only tens of
 * MiB, and are closed. A replay is paced by each socket (the next event goes
 * out once the last one drained), so an unread socket holds at most a
 * page of events, never the stream; the heartbeat closes it.
 *
 * Real parts: the built gateway as its own process (its RSS read from
 * /proc), a real Redis holding a stream of 3000 events of ~1 KiB (3 MiB: a
 * copy per client would be 600 MiB), and 200 raw TCP sockets that send the
 * WebSocket upgrade and then never read a byte.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { encodeSnapshot, redisNames } from '@matomo-live/shared';
import { freePort } from '@matomo-live/test-support/net';
import { startService, waitForHttpOk, type ServiceProcess } from '@matomo-live/test-support/processes';
import { redisScope, type RedisScope } from '@matomo-live/test-support/redis';
import { waitFor } from '@matomo-live/test-support/wait-for';

const TOKEN = 'unread-replays-token-0123456789';
const CLIENTS = 200;
const EVENTS = 3000;
const MIB = 1024 * 1024;

jest.setTimeout(120_000);

/** Resident memory of a process, bytes (Linux). */
function rssOf(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for ${pid}`);
  return Number(match[1]) * 1024;
}

/** Opens a WebSocket by hand and stops reading right after the 101: the kernel buffers fill, then the gateway's. */
function unreadClient(port: number, path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let head = '';
    const onData = (chunk: Buffer) => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      socket.pause();
      if (head.startsWith('HTTP/1.1 101')) resolve(socket);
      else reject(new Error(`upgrade refused: ${head.split('\r\n')[0]}`));
    };
    socket.on('data', onData);
    socket.on('error', reject);
    socket.on('connect', () =>
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      ),
    );
  });
}

/** A gauge's value summed over its label sets (NaN when the metric is missing). */
const gaugeOf = (metrics: string, name: string) => {
  const values = [...metrics.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))].map((m) => Number(m[1]));
  return values.length === 0 ? NaN : values.reduce((a, b) => a + b, 0);
};

describe('200 unread full replays', () => {
  let redis: RedisScope;
  let gateway: ServiceProcess;
  let port: number;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    redis = await redisScope('unread');
    const names = redisNames(redis.prefix, 1);
    // The stream as the poller writes it: each entry names the one before (prev), visits of ~1 KiB.
    let prev = '0-0';
    for (let start = 0; start < EVENTS; start += 500) {
      const batch = redis.command.multi();
      for (let i = start; i < start + 500; i++) {
        const visit = { city: `City ${i} ${'x'.repeat(900)}`, latitude: 1, longitude: 2, idVisit: i + 1 };
        const id = `${Date.now() - 60_000}-${i}`;
        batch.xadd(names.eventsKey, id, 'prev', prev, 'kind', 'visit', 'data', JSON.stringify(visit));
        prev = id;
      }
      await batch.exec();
    }
    await redis.command.hset(names.stateKey, 'events_last', prev);
    const summary = { visits: 0, time_spent: '00:00:00' };
    const content = {
      visits_live: [],
      summary: { today: summary, yesterday: summary, day_before: summary },
      counters: null,
      site: 1,
      timezone: 'UTC',
    };
    const bytes = encodeSnapshot(content as never, Date.now(), new Date());
    await redis.command.set(names.snapshotKey, bytes);

    port = await freePort();
    gateway = startService('gateway/dist/main.js', {
      REDIS_URL: redis.url,
      REDIS_PREFIX: redis.prefix,
      VALID_TOKENS: TOKEN,
      PORT: String(port),
      HOST: '127.0.0.1',
      DASHBOARD_DIR: 'off',
      MATOMO_SITE_ID: '1',
      LOG_LEVEL: 'warn',
      HEARTBEAT_INTERVAL: '2000',
      ACCEPT_RATE: '100000',
      REBALANCE: 'false',
    });
    await waitForHttpOk(`http://127.0.0.1:${port}/readyz`, gateway);
  });

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await gateway?.kill();
    await redis?.close();
  });

  it('raise RSS by well under 100 MiB, and are all closed', async () => {
    // Warm up: one client that reads the whole replay, so lazily built parts (pages, frames, JIT) are in the baseline.
    const warm = await unreadClient(port, `/?token=${TOKEN}&events=visits&rewind=10000`);
    let warmBytes = 0;
    warm.on('data', (chunk: Buffer) => (warmBytes += chunk.length));
    warm.resume();
    await waitFor(() => warmBytes > EVENTS * 900, 'the warm-up replay', 30_000);
    warm.destroy();
    const baseline = rssOf(gateway.pid);

    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, rssOf(gateway.pid))), 50);
    try {
      const path = `/?token=${TOKEN}&events=visits&rewind=10000`;
      for (let i = 0; i < CLIENTS; i += 20) {
        sockets.push(...(await Promise.all(Array.from({ length: Math.min(20, CLIENTS - i) }, () => unreadClient(port, path)))));
      }
      const metrics = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(gaugeOf(await metrics(), 'matomo_live_gateway_connections')).toBeGreaterThan(0);
      // Unread sockets answer no ping: the heartbeat (or the send-buffer limit) closes every one of them.
      await waitFor(async () => gaugeOf(await metrics(), 'matomo_live_gateway_connections') === 0, 'every unread client closed', 60_000);
    } finally {
      clearInterval(sampler);
    }
    const growth = peak - baseline;
    console.log(
      `${CLIENTS} unread full replays of ${EVENTS} events: gateway RSS ${(baseline / MIB).toFixed(0)} MiB → peak ${(peak / MIB).toFixed(0)} MiB (+${(growth / MIB).toFixed(1)} MiB)`,
    );
    expect(growth).toBeLessThan(100 * MIB);
  });
});
