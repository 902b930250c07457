/**
 * The real Matomo 5 the Matomo-cost benchmark measures: it must run on this
 * machine (its PHP processes and MariaDB are measured from /proc and over the
 * database socket). REAL_MATOMO_URL, REAL_MATOMO_TOKEN, REAL_MATOMO_PID_FILE
 * and REAL_MATOMO_DB_SOCKET (what the toolbox's start.sh exports) name one;
 * otherwise, as root, the benchmark starts its own with the team toolbox
 * (`../shared/tools/real-matomo/start.sh`, or REAL_MATOMO_TOOLBOX) in
 * /tmp/matomo-live-bench/real-matomo and stops it at the end.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface BenchMatomo {
  /** Base URL ending in "/". */
  url: string;
  token: string;
  /** PID file: line 1 the `php -S` leader (its process group holds the workers), line 2 mariadbd. */
  pidFile: string;
  dbSocket: string;
  /** One API call (module/method/format in the URL, token in the body); rejects on HTTP ≠ 200 or an error answer. */
  api(method: string, params?: Record<string, string | number>): Promise<unknown>;
  /** SQL as MariaDB root over the socket; tab-separated rows. `stdin` feeds a script instead of `-e`. */
  sql(statement: string, stdin?: boolean): string;
  /** Stops the instance if the benchmark started it. */
  stop(): Promise<void>;
}

export async function benchMatomo(root: string, log: (line: string) => void): Promise<BenchMatomo | { skip: string }> {
  const env = process.env;
  if (env.REAL_MATOMO_URL && env.REAL_MATOMO_TOKEN && env.REAL_MATOMO_PID_FILE && env.REAL_MATOMO_DB_SOCKET) {
    log(`real Matomo from the environment: ${env.REAL_MATOMO_URL}`);
    return connect(env.REAL_MATOMO_URL, env.REAL_MATOMO_TOKEN, env.REAL_MATOMO_PID_FILE, env.REAL_MATOMO_DB_SOCKET, async () => undefined);
  }
  const toolbox = env.REAL_MATOMO_TOOLBOX ?? resolve(root, '..', 'shared', 'tools', 'real-matomo');
  if (!existsSync(join(toolbox, 'start.sh'))) {
    return {
      skip: `no real Matomo: set REAL_MATOMO_URL, _TOKEN, _PID_FILE and _DB_SOCKET (start.sh's exports), or provide ${toolbox}/start.sh`,
    };
  }
  if (process.getuid?.() !== 0) return { skip: `no real Matomo: ${toolbox}/start.sh needs root (it installs php8.2 and mariadb)` };
  const base = env.REAL_MATOMO_BENCH_BASE ?? '/tmp/matomo-live-bench/real-matomo';
  log(`starting a real Matomo 5 in ${base} (first time: apt-get + installer, about a minute)`);
  const started = await run('bash', [join(toolbox, 'start.sh')], {
    env: { ...env, REAL_MATOMO_BASE: base, REAL_MATOMO_KEEP_BRUTEFORCE: '0' },
    maxBuffer: 1 << 20,
    timeout: 6 * 60_000,
  });
  const exported = Object.fromEntries(
    [...started.stdout.matchAll(/(REAL_MATOMO_[A-Z_]+)=(?:'([^']*)'|(\S*))/g)].map((m) => [m[1], m[2] ?? m[3]]),
  );
  const { REAL_MATOMO_URL: url, REAL_MATOMO_TOKEN: token, REAL_MATOMO_PID_FILE: pidFile, REAL_MATOMO_DB_SOCKET: dbSocket } = exported;
  if (!url || !token || !pidFile || !dbSocket) throw new Error(`start.sh printed no usable exports: ${started.stdout.slice(0, 300)}`);
  return connect(url, token, pidFile, dbSocket, async () => {
    await run('bash', [join(toolbox, 'stop.sh'), base], { timeout: 120_000 });
  });
}

function connect(url: string, token: string, pidFile: string, dbSocket: string, stop: () => Promise<void>): BenchMatomo {
  const base = url.endsWith('/') ? url : `${url}/`;
  return {
    url: base,
    token,
    pidFile,
    dbSocket,
    async api(method, params = {}) {
      const body = new URLSearchParams({ token_auth: token });
      for (const [k, v] of Object.entries(params)) body.set(k, String(v));
      const res = await fetch(`${base}index.php?module=API&method=${encodeURIComponent(method)}&format=json`, {
        method: 'POST',
        body,
        signal: AbortSignal.timeout(300_000),
      });
      const text = await res.text();
      const answer = JSON.parse(text) as unknown;
      if (res.status !== 200 || (answer as { result?: unknown }).result === 'error')
        throw new Error(`${method}: HTTP ${res.status} ${text.slice(0, 300)}`);
      return answer;
    },
    sql(statement, stdin = false) {
      const args = ['--no-defaults', '-S', dbSocket, '-uroot', '-N', '-B', 'matomo'];
      const result = spawnSync('mariadb', stdin ? args : [...args, '-e', statement], {
        input: stdin ? statement : undefined,
        encoding: 'utf8',
        timeout: 600_000,
        maxBuffer: 16 << 20,
      });
      if (result.status !== 0) throw new Error(`SQL failed: ${result.stderr || result.error?.message}`);
      return result.stdout.trim();
    },
    stop,
  };
}
