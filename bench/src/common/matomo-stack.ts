/** Starting the simulator, the poller and gateways as processes, as the poller and end-to-end benchmarks need them. */
import { join } from 'node:path';
import { freePort, startProcess, waitForPort, type StartedProcess } from '../processes';

export const SIM_TOKEN = 'bench-matomo-token';

export async function startSimulator(root: string, visitEveryMs: number): Promise<{ url: string; process: StartedProcess }> {
  const port = await freePort();
  const sim = startProcess(process.execPath, [join(root, 'tools/matomo-sim/dist/main.js')], {
    env: {
      ...process.env,
      PORT: String(port),
      SIM_HOST: '127.0.0.1',
      SIM_TOKEN,
      SIM_SITE_IDS: '1',
      SIM_VISIT_EVERY_MS: String(visitEveryMs),
    },
  });
  await waitForPort(port, sim);
  return { url: `http://127.0.0.1:${port}/`, process: sim };
}

export function startPoller(
  root: string,
  env: {
    matomoUrl: string;
    redisUrl: string;
    prefix: string;
    intervalMs: number;
    /** Default: the simulator's token. */
    token?: string;
    /** Default 1. */
    siteId?: number;
    extra?: Record<string, string>;
  },
): StartedProcess {
  return startProcess(process.execPath, [join(root, 'poller/dist/main.js')], {
    env: {
      ...process.env,
      MATOMO_URL: env.matomoUrl,
      MATOMO_TOKEN: env.token ?? SIM_TOKEN,
      MATOMO_SITE_ID: String(env.siteId ?? 1),
      FETCH_INTERVAL: String(env.intervalMs),
      REDIS_URL: env.redisUrl,
      REDIS_PREFIX: env.prefix,
      POLLER_HEALTH_PORT: '0',
      LOG_LEVEL: 'warn',
      ...env.extra,
    },
  });
}

/**
 * A gateway process on a free loopback port, with the benchmark's token and no per-IP/per-token limits in the way.
 * BENCH_GATEWAY_MAIN runs another build instead of gateway/dist/main.js (before/after comparisons of a change).
 */
export async function startGateway(
  root: string,
  env: { redisUrl: string; prefix: string; token: string; extra?: Record<string, string>; nodeArgs?: string[] },
): Promise<{ port: number; process: StartedProcess }> {
  const port = await freePort();
  const gateway = startProcess(
    process.execPath,
    [...(env.nodeArgs ?? []), process.env.BENCH_GATEWAY_MAIN ?? join(root, 'gateway/dist/main.js')],
    {
      env: {
        ...process.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        REDIS_URL: env.redisUrl,
        REDIS_PREFIX: env.prefix,
        VALID_TOKENS: env.token,
        MATOMO_SITE_IDS: '1',
        MAX_CONNECTIONS_PER_TOKEN: '10000000',
        CONNECT_RATE_PER_IP: '10000000',
        DASHBOARD_DIR: 'off',
        LOG_LEVEL: 'warn',
        ...env.extra,
      },
    },
  );
  await waitForPort(port, gateway);
  return { port, process: gateway };
}
