#!/usr/bin/env node
// @ts-check
'use strict';
/**
 * `npm run demo`: the Matomo simulator plus poller and gateway in one process
 * (single-process mode, in-memory bus, no Redis), then the dashboard URL.
 * Ctrl-C stops both. Needs `npm run build` first (the npm script does it).
 *
 *   PORT       gateway port, default 8080
 *   DEMO_TOKEN token the dashboard uses, default "demo"
 */
const { spawn } = require('node:child_process');
const path = require('node:path');
const readline = require('node:readline');

const root = path.resolve(__dirname, '..', '..');
const port = Number(process.env.PORT ?? 8080);
const token = process.env.DEMO_TOKEN ?? 'demo';
const simToken = 'demo-matomo-token';
/** @type {import('node:child_process').ChildProcess[]} */
const children = [];
let stopping = false;

/**
 * @param {string} name
 * @param {string} script path below the repository root
 * @param {Record<string, string | undefined>} overrides undefined removes a variable
 */
function start(name, script, overrides) {
  const env = { ...process.env, ...overrides };
  for (const [key, value] of Object.entries(overrides)) if (value === undefined) delete env[key];
  const child = spawn(process.execPath, [path.join(root, script)], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  child.on('exit', (code, signal) => {
    if (stopping) return;
    // Ctrl-C in a terminal reaches the whole process group: a child may finish first.
    if (code === 0) return stop(0);
    console.error(`demo: the ${name} stopped unexpectedly (${signal ?? `exit ${code}`}); stopping the demo`);
    stop(1);
  });
  return child;
}

/** @param {number} exitCode */
function stop(exitCode) {
  if (stopping) return;
  stopping = true;
  const running = children.filter((c) => c.exitCode === null && c.signalCode === null);
  let left = running.length;
  if (left === 0) process.exit(exitCode);
  const force = setTimeout(() => running.forEach((c) => c.kill('SIGKILL')), 8000);
  for (const child of running) {
    child.once('exit', () => {
      left -= 1;
      if (left === 0) {
        clearTimeout(force);
        process.exit(exitCode);
      }
    });
    child.kill('SIGTERM');
  }
}

/**
 * Resolves with the first stdout line matching `pattern`, echoing nothing else.
 * @param {import('node:child_process').ChildProcess} child
 * @param {RegExp} pattern
 * @returns {Promise<RegExpMatchArray>}
 */
function lineMatching(child, pattern) {
  return new Promise((resolve, reject) => {
    if (!child.stdout) return reject(new Error('no stdout'));
    const lines = readline.createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      const match = line.match(pattern);
      if (match) resolve(match);
    });
    child.once('exit', () => reject(new Error('exited before it was ready')));
  });
}

/** @param {string} url @param {number} timeoutMs */
async function waitForHttp(url, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function main() {
  process.once('SIGINT', () => stop(0));
  process.once('SIGTERM', () => stop(0));

  const sim = start('Matomo simulator', 'tools/matomo-sim/dist/main.js', { PORT: '0', SIM_HOST: '127.0.0.1', SIM_TOKEN: simToken, SIM_VISIT_EVERY_MS: '3000' });
  const [, simUrl] = await lineMatching(sim, /listening on (\S+)/);
  const gateway = start('poller + gateway', 'gateway/dist/single-process.js', {
    MATOMO_URL: String(simUrl),
    MATOMO_TOKEN: simToken,
    MATOMO_SITE_ID: '1',
    // The simulator's daily totals move with every visit; a real Matomo's only
    // when its archives are rebuilt, hence the 60 s default.
    SUMMARY_INTERVAL: '5000',
    VALID_TOKENS: token,
    PORT: String(port),
    POLLER_HEALTH_PORT: '0',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    // The in-memory bus: a REDIS_URL from the caller's shell would switch to Redis.
    REDIS_URL: undefined,
  });
  gateway.stdout?.pipe(process.stdout);
  await waitForHttp(`http://127.0.0.1:${port}/healthz`, 30_000);
  console.log(`
  matomo-live demo is running

    dashboard   http://127.0.0.1:${port}/dashboard/#token=${token}
    websocket   ws://127.0.0.1:${port}/ws   (token "${token}")
    simulator   ${simUrl}   (a new visit every 3 s)

  Ctrl-C stops it.
`);
}

main().catch((error) => {
  console.error(`demo: ${error instanceof Error ? error.message : error}`);
  stop(1);
});
