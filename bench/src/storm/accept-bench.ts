/**
 * The admission ceiling: how many new WebSocket connections per second one
 * gateway process accepts (handshake, token check, current snapshot sent),
 * with ACCEPT_RATE out of the way, from clients in three load-generator
 * processes opening as fast as they can (500 attempts in flight each),
 * directly and through the shipped NGINX config. Token: static (the JWT cache
 * makes a repeated signed token cost the same).
 */
import Redis from 'ioredis';
import { redisNames } from '@matomo-live/shared';
import { BENCH_TOKEN } from '../fanout/fanout-bench';
import { LoadGeneratorPool } from '../common/load-generator-pool';
import { startGateway } from '../common/matomo-stack';
import { monotonicMs, PayloadFactory } from '../common/payload';
import { cpuSeconds } from '../common/proc-stats';
import { startShippedNginx } from './storm-nginx';

export interface AcceptResult {
  path: 'direct' | 'nginx';
  clients: number;
  connected: number;
  seconds: number;
  perSecond: number;
  /** The gateway process's CPU (user + system) per accepted connection, ms, and the rate that makes one full core. */
  gatewayCpuMsPerAccept: number;
  perCoreSecond: number;
  errors: string[];
}

export async function runAcceptBench(plan: {
  clients: number;
  redisUrl: string;
  root: string;
  log: (line: string) => void;
}): Promise<AcceptResult[]> {
  const results: AcceptResult[] = [];
  for (const path of ['direct', 'nginx'] as const) {
    const prefix = `bench-accept-${Date.now()}:`;
    const redis = new Redis(plan.redisUrl);
    await redis.set(redisNames(prefix, 1).snapshotKey, new PayloadFactory(2048).message(Date.now(), monotonicMs()));
    const gateway = await startGateway(plan.root, {
      redisUrl: plan.redisUrl,
      prefix,
      token: BENCH_TOKEN,
      extra: { ACCEPT_RATE: '10000000', TRUST_PROXY: 'loopback', REBALANCE: 'false' },
    });
    const nginx = path === 'nginx' ? await startShippedNginx(plan.root, [gateway.port]) : undefined;
    const pool = new LoadGeneratorPool(3);
    try {
      const port = nginx?.port ?? gateway.port;
      const started = Date.now();
      const cpuBefore = cpuSeconds(gateway.process.pid);
      const outcome = await pool.connect({ url: `ws://127.0.0.1:${port}/?token=${BENCH_TOKEN}`, count: plan.clients, concurrency: 500 });
      const seconds = (Date.now() - started) / 1000;
      const cpuMs = ((cpuSeconds(gateway.process.pid) - cpuBefore) * 1000) / Math.max(1, outcome.connected);
      const result: AcceptResult = {
        path,
        clients: plan.clients,
        connected: outcome.connected,
        seconds,
        perSecond: outcome.connected / seconds,
        gatewayCpuMsPerAccept: cpuMs,
        perCoreSecond: 1000 / cpuMs,
        errors: outcome.errors,
      };
      plan.log(
        `  accept (${path}): ${outcome.connected}/${plan.clients} in ${seconds.toFixed(2)} s = ${result.perSecond.toFixed(0)}/s; gateway CPU ${cpuMs.toFixed(3)} ms per accept (${result.perCoreSecond.toFixed(0)}/s per core)${outcome.failed ? `, ${outcome.failed} failed: ${outcome.errors.join('; ')}` : ''}`,
      );
      results.push(result);
    } finally {
      await pool.close();
      await nginx?.stop();
      await gateway.process.stop();
      redis.disconnect();
    }
  }
  return results;
}
