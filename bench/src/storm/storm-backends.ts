/**
 * The storm's server side: three backend slots (a matomo-live gateway or a Socket.IO server
 * on a fixed port that a process holds or not) and the publisher of the change every client must get.
 */
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import Redis from 'ioredis';
import { redisNames } from '@matomo-live/shared';
import { monotonicMs, PayloadFactory } from '../common/payload';
import { SocketIoLoadPublisher } from '../common/publisher';
import { startProcess, waitForPort, type StartedProcess } from '../processes';
import type { StormPlan } from './storm-bench';

/** The token every storm client presents to the gateways. */
export const STORM_TOKEN = 'storm-token-0123456789';
const SOCKET_IO_KEY = 'storm.socket.io';

/** One backend slot: a fixed port that a process holds or not. */
export interface Backend {
  readonly port: number;
  readonly running: boolean;
  start(): Promise<void>;
  kill(): void;
  /** SIGTERM and wait for the exit. */
  term(): Promise<void>;
  connections(): Promise<number>;
}

export function backend(plan: StormPlan, port: number, prefix: string): Backend {
  let proc: StartedProcess | undefined;
  const drainWindowMs = plan.drainWindowMs ?? 5000;
  const env =
    plan.server === 'gateway'
      ? {
          PORT: String(port),
          HOST: '127.0.0.1',
          REDIS_URL: plan.redisUrl,
          REDIS_PREFIX: prefix,
          VALID_TOKENS: STORM_TOKEN,
          MATOMO_SITE_IDS: '1',
          TRUST_PROXY: 'loopback',
          // Every client comes from 127.0.0.1 here: the per-IP and per-token limits would be the bottleneck.
          MAX_CONNECTIONS_PER_TOKEN: '10000000',
          CONNECT_RATE_PER_IP: '10000000',
          DRAIN_WINDOW: String(drainWindowMs),
          DASHBOARD_DIR: 'off',
          LOG_LEVEL: process.env.STORM_GATEWAY_LOG_LEVEL ?? 'warn',
          ...plan.gatewayEnv,
        }
      : { PORT: String(port), REDIS_URL: plan.redisUrl, REDIS_PREFIX: prefix, SOCKET_IO_KEY: `${prefix}${SOCKET_IO_KEY}` };
  const main =
    plan.server === 'gateway'
      ? (process.env.BENCH_GATEWAY_MAIN ?? join(plan.root, 'gateway/dist/main.js'))
      : join(plan.root, 'bench/dist/peers/socketio-server.js');
  return {
    port,
    get running() {
      return proc !== undefined && proc.child.exitCode === null && proc.child.signalCode === null;
    },
    async start() {
      proc = startProcess(process.execPath, [main], { env: { ...process.env, ...env } });
      // STORM_LOG_DIR=/some/dir keeps every backend's output (with LOG_LEVEL=info in STORM_GATEWAY_LOG_LEVEL, the rebalancer's lines).
      if (process.env.STORM_LOG_DIR) {
        const file = createWriteStream(join(process.env.STORM_LOG_DIR, `backend-${port}.log`), { flags: 'a' });
        proc.child.stdout?.pipe(file);
        proc.child.stderr?.pipe(file);
      }
      await waitForPort(port, proc);
      if (plan.server === 'gateway') {
        const deadline = Date.now() + 30_000;
        while (
          (await fetch(`http://127.0.0.1:${port}/readyz`).then(
            (r) => r.status,
            () => 0,
          )) !== 200
        ) {
          if (Date.now() > deadline) throw new Error(`gateway on ${port} not ready after 30 s: ${proc.output()}`);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    },
    kill() {
      proc?.child.kill('SIGKILL');
    },
    async term() {
      await proc?.stop(drainWindowMs + 10_000);
    },
    async connections() {
      if (!this.running) return 0;
      const path = plan.server === 'gateway' ? '/metrics' : '/connections';
      const text = await fetch(`http://127.0.0.1:${port}${path}`).then(
        (r) => r.text(),
        () => '',
      );
      if (plan.server === 'socketio') return Number(text) || 0;
      return [...text.matchAll(/^matomo_live_gateway_connections\{[^}]*\} (\d+)/gm)].reduce((s, m) => s + Number(m[1]), 0);
    },
  };
}

/** A change for every client: the poller's way (SET + PUBLISH + the state hash) or Socket.IO's (emit through the adapter). */
export interface ChangePublisher {
  publish(seq: number): Promise<void>;
  close(): Promise<void>;
}

export function changePublisher(plan: StormPlan, prefix: string): ChangePublisher {
  const payloads = new PayloadFactory(2048);
  if (plan.server === 'socketio') {
    const publisher = new SocketIoLoadPublisher(new Redis(plan.redisUrl), new Redis(plan.redisUrl), payloads, `${prefix}${SOCKET_IO_KEY}`);
    return { publish: (seq) => publisher.send(seq), close: () => publisher.close() };
  }
  const redis = new Redis(plan.redisUrl);
  const names = redisNames(prefix, 1);
  return {
    async publish(seq) {
      const bytes = payloads.message(seq, monotonicMs());
      await redis
        .multi()
        .set(names.snapshotKey, bytes)
        .hset(names.stateKey, 'seq', String(seq), 'digest', String(seq))
        .publish(names.snapshotChannel, bytes)
        .exec();
    },
    async close() {
      redis.disconnect();
    },
  };
}
