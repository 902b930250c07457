#!/usr/bin/env node
/**
 * The simulator as a process (demo, docker, browser tests):
 *   PORT=8090 SIM_TOKEN=demo-matomo-token SIM_SITE_IDS=1 SIM_TIMEZONE=Europe/Paris SIM_VISIT_EVERY_MS=3000 node tools/matomo-sim/dist/main.js
 */
import { str } from 'envalid';
import { cleanOrThrow, intIn, loadOrExit, siteIdList } from '@matomo-live/shared';
import { startMatomoSim } from './matomo-sim';

const simEnvSpec = {
  PORT: intIn(0, 65535)({ default: 8090, desc: 'HTTP port; 0 picks a free one' }),
  SIM_HOST: str({ default: '0.0.0.0', desc: 'listen address' }),
  SIM_TOKEN: str({ default: 'demo-matomo-token', desc: 'the token_auth the simulator accepts' }),
  SIM_SITE_IDS: siteIdList({ default: [1], desc: 'site ids that exist' }),
  SIM_TIMEZONE: str({ default: 'Europe/Paris', desc: 'timezone of every site (IANA or UTC+3)' }),
  SIM_VISIT_EVERY_MS: intIn(0, 3_600_000)({ default: 3000, desc: 'a synthetic visit every this many ms; 0 = none' }),
};

async function main(): Promise<void> {
  const env = loadOrExit(() => cleanOrThrow(process.env, simEnvSpec));
  const sim = await startMatomoSim({
    port: env.PORT,
    host: env.SIM_HOST,
    token: env.SIM_TOKEN,
    siteIds: env.SIM_SITE_IDS,
    timezone: env.SIM_TIMEZONE,
    visitEveryMs: env.SIM_VISIT_EVERY_MS,
    seedHistory: true,
  });
  process.stdout.write(`matomo-sim listening on ${sim.url} (sites ${env.SIM_SITE_IDS.join(',')}, ${env.SIM_TIMEZONE})\n`);
  const stop = (): void => void sim.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

void main();
