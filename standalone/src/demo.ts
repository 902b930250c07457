#!/usr/bin/env node
/**
 * `npm run demo`: the Matomo simulator, the poller and the gateway in this one
 * process (single-process mode on the in-memory bus, no Redis), then the
 * dashboard URL. Ctrl-C stops it. Needs `npm run build` first (the npm script
 * does it).
 *
 *   PORT       gateway port, default 8080
 *   HOST       gateway listen address, default 127.0.0.1 (the demo token is public)
 *   DEMO_TOKEN token the dashboard uses, default "demo"
 *   LOG_LEVEL  default "warn"
 */
import { startMatomoSim, type MatomoSim } from '@matomo-live/matomo-sim';
import { exitOnSignals, type RawEnv } from '@matomo-live/shared';
import { startSingleProcess, type SingleProcess } from './single-process';

export interface DemoOptions {
  /** Gateway port; 0 picks a free one. Default 8080. */
  port?: number;
  /** Gateway listen address. Default "127.0.0.1": the demo token is public, so the demo is not reachable from elsewhere unless asked. */
  host?: string;
  /** The client token the dashboard uses. Default "demo". */
  token?: string;
  /** Log level of poller and gateway. Default "warn". */
  logLevel?: string;
  /** A simulated visit every this many ms. Default 3000. */
  visitEveryMs?: number;
}

export interface Demo {
  sim: MatomoSim;
  running: SingleProcess;
  /** The dashboard, token in the fragment. */
  dashboardUrl: string;
  websocketUrl: string;
  token: string;
  /** Stops the gateway and poller, then the simulator. */
  stop(): Promise<void>;
}

const SIM_TOKEN = 'demo-matomo-token';

export async function startDemo({
  port = 8080,
  host = '127.0.0.1',
  token = 'demo',
  logLevel = 'warn',
  visitEveryMs = 3000,
}: DemoOptions = {}): Promise<Demo> {
  const sim = await startMatomoSim({ token: SIM_TOKEN, visitEveryMs, seedHistory: true });
  // Only these variables: a REDIS_URL (or any other setting) from the caller's shell must not turn the demo into something else.
  const env: RawEnv = {
    MATOMO_URL: sim.url,
    MATOMO_TOKEN: SIM_TOKEN,
    MATOMO_SITE_ID: '1',
    // The simulator's daily totals move with every visit; a real Matomo's only
    // when its archives are rebuilt, hence the 60 s default.
    SUMMARY_INTERVAL: '5000',
    VALID_TOKENS: token,
    // The demo is what runs: its public token is fine (a gateway refuses .env.example's one otherwise).
    MATOMO_LIVE_DEMO: '1',
    PORT: String(port),
    HOST: host,
    POLLER_HEALTH_PORT: '0',
    DRAIN_WINDOW: '0',
    LOG_LEVEL: logLevel,
  };
  let running: SingleProcess;
  try {
    running = await startSingleProcess(env, { dotenv: false });
  } catch (error) {
    await sim.close();
    throw error;
  }
  const base = `127.0.0.1:${running.port}`;
  return {
    sim,
    running,
    token,
    dashboardUrl: `http://${base}/dashboard/#token=${encodeURIComponent(token)}`,
    websocketUrl: `ws://${base}/ws`,
    async stop() {
      await running.shutdown();
      await sim.close();
    },
  };
}

if (require.main === module) {
  startDemo({
    port: Number(process.env.PORT ?? 8080),
    host: process.env.HOST,
    token: process.env.DEMO_TOKEN,
    logLevel: process.env.LOG_LEVEL,
  }).then(
    (demo) => {
      process.stdout.write(`
  matomo-live demo is running

    dashboard   ${demo.dashboardUrl}
    websocket   ${demo.websocketUrl}   (token "${demo.token}")
    simulator   ${demo.sim.url}   (a new visit every 3 s)

  Ctrl-C stops it.
`);
      exitOnSignals(() => demo.stop(), { logger: demo.running.logger, deadlineMs: demo.running.shutdownDeadlineMs });
    },
    (error: Error) => {
      process.stderr.write(`demo: ${error.message}\n`);
      process.exit(1);
    },
  );
}
