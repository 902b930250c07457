/**
 * A real Matomo 5 for tests and benchmarks (the team toolbox's `../shared/tools/real-matomo`:
 * PHP's built-in server and a private MariaDB on loopback, offline).
 *
 * realMatomoPlan() decides, synchronously (so a suite can `describe.skip`):
 * - REAL_MATOMO_URL + REAL_MATOMO_TOKEN set: use that Matomo (the suites
 *   that need its files or database, e.g. brute-force tests, do not; the
 *   benchmark, which measures its processes, also needs REAL_MATOMO_PID_FILE
 *   and REAL_MATOMO_DB_SOCKET, what start.sh exports);
 * - else, as root with the toolbox beside the repository: start one with
 *   `start.sh` in a base directory of the suite's own
 *   (`$REAL_MATOMO_TEST_DIR/<name>`, default /tmp/matomo-live-real-matomo/),
 *   which apt-installs php8.2 and mariadb the first time (30–75 s), installs
 *   Matomo in a new base (20–30 s), and reuses a running one (< 1 s);
 * - else skip, with the reason (suites print it with console.warn).
 * A Matomo this process started is stopped by stop() (its data stays, so the
 * next start takes 2–3 s); one found running is left running.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from './process';

const run = promisify(execFile);

/**
 * The team toolbox's real Matomo (outside the repository: tests may use it, the product never does).
 * REAL_MATOMO_TOOLBOX points elsewhere (e.g. from a git worktree, whose `..` is not the checkout's).
 */
export const REAL_MATOMO_TOOLBOX = process.env.REAL_MATOMO_TOOLBOX ?? resolve(REPO_ROOT, '..', 'shared', 'tools', 'real-matomo');

/** Longest a start may take: apt-get on a bare machine, then Matomo's installer (seen: 75 s + 30 s). */
export const REAL_MATOMO_START_TIMEOUT_MS = 6 * 60_000;

export type RealMatomoPlan =
  | { kind: 'env'; url: string; token: string; base: string | undefined; pidFile: string | undefined; dbSocket: string | undefined }
  | { kind: 'start'; base: string; keepBruteForce: boolean }
  | { kind: 'skip'; reason: string };

export interface RealMatomoPlanOptions {
  /** Needs a Matomo of its own with brute-force detection on for 127.0.0.1 (REAL_MATOMO_KEEP_BRUTEFORCE=1): never an external one. */
  bruteForce?: boolean;
  /** Needs its PID file and database socket (the benchmark measures its processes): an external one only with REAL_MATOMO_PID_FILE and REAL_MATOMO_DB_SOCKET. */
  needsProcesses?: boolean;
  /** Where a started one's base directories go. Default REAL_MATOMO_TEST_DIR, else /tmp/matomo-live-real-matomo. */
  parent?: string;
}

/** How a suite gets its real Matomo here, or why it cannot. `name` names the base directory. */
export function realMatomoPlan(
  name: string,
  { bruteForce = false, needsProcesses = false, parent }: RealMatomoPlanOptions = {},
): RealMatomoPlan {
  const { REAL_MATOMO_URL: url, REAL_MATOMO_TOKEN: token, REAL_MATOMO_PID_FILE: pidFile, REAL_MATOMO_DB_SOCKET: dbSocket } = process.env;
  if (url && token && !bruteForce && (!needsProcesses || (pidFile && dbSocket)))
    return { kind: 'env', url: url.endsWith('/') ? url : `${url}/`, token, base: process.env.REAL_MATOMO_BASE, pidFile, dbSocket };
  const why = bruteForce ? 'a Matomo of its own with brute-force detection on (it blocks 127.0.0.1 on purpose)' : 'a real Matomo';
  if (!existsSync(join(REAL_MATOMO_TOOLBOX, 'start.sh'))) {
    return {
      kind: 'skip',
      reason: `needs ${why}: set REAL_MATOMO_URL and REAL_MATOMO_TOKEN, or provide the toolbox ${REAL_MATOMO_TOOLBOX}/start.sh (not found)`,
    };
  }
  if (process.getuid?.() !== 0) {
    return {
      kind: 'skip',
      reason: `needs ${why}: ${REAL_MATOMO_TOOLBOX}/start.sh runs as root (it installs php8.2 and mariadb); run as root or set REAL_MATOMO_URL/REAL_MATOMO_TOKEN`,
    };
  }
  const dir = parent ?? process.env.REAL_MATOMO_TEST_DIR ?? '/tmp/matomo-live-real-matomo';
  return { kind: 'start', base: join(dir, name), keepBruteForce: bruteForce };
}

export interface TrackingHit {
  idsite: number;
  /** Visitor id, 16 hex digits. */
  _id: string;
  /** Unix seconds (UTC); needs the token when older than 24 h. */
  cdt?: number;
  /** The visitor's IP; give each synthetic visitor its own, or Matomo merges hits of one IP + user agent within 30 min. */
  cip?: string;
  lat?: number;
  long?: number;
  city?: string;
  country?: string;
  url?: string;
  action_name?: string;
  [param: string]: string | number | undefined;
}

export interface TrackingResult {
  tracked: number;
  invalid: number;
}

export interface RealMatomo {
  /** Base URL ending in "/". */
  url: string;
  token: string;
  /** Base directory of a toolbox instance (Matomo tree, database socket, PID file); undefined for an external Matomo. */
  base: string | undefined;
  /** PID file: line 1 the `php -S` leader (its process group holds the workers), line 2 mariadbd; undefined when unknown. */
  pidFile: string | undefined;
  /** MariaDB's socket; undefined for an external Matomo without REAL_MATOMO_DB_SOCKET. */
  dbSocket: string | undefined;
  /** One API call: module/method/format in the URL, token in the POST body. Resolves the JSON; rejects on HTTP ≠ 200 or an error answer. */
  api(method: string, params?: Record<string, string | number>): Promise<unknown>;
  /** Bulk tracking (`matomo.php`, JSON body, token included so cip/cdt/coordinates are accepted). */
  track(hits: TrackingHit[]): Promise<TrackingResult>;
  /** `php8.2 console …` in the Matomo tree (toolbox instances only). */
  console(args: string[]): string;
  /** SQL as MariaDB root over the socket, tab-separated rows (toolbox instances only). `stdin` feeds a script instead of `-e`. */
  sql(statement: string, stdin?: boolean): string;
  /** Stops the Matomo if this process started it (its data stays). */
  stop(): Promise<void>;
}

/** Starts (or finds) the Matomo a plan describes. Call from beforeAll with REAL_MATOMO_START_TIMEOUT_MS. */
export async function startRealMatomo(plan: Exclude<RealMatomoPlan, { kind: 'skip' }>): Promise<RealMatomo> {
  if (plan.kind === 'env') return connect(plan, async () => undefined);
  const env = { ...process.env, REAL_MATOMO_BASE: plan.base, REAL_MATOMO_KEEP_BRUTEFORCE: plan.keepBruteForce ? '1' : '0' };
  const wasRunning = running(plan.base);
  const { stdout } = await run('bash', [join(REAL_MATOMO_TOOLBOX, 'start.sh')], {
    env,
    maxBuffer: 1 << 20,
    timeout: REAL_MATOMO_START_TIMEOUT_MS,
  }).catch((error: Error & { stderr?: string }) => {
    throw new Error(`${REAL_MATOMO_TOOLBOX}/start.sh failed for ${plan.base}: ${error.message}\n${error.stderr ?? ''}`);
  });
  const exports = parseExports(stdout);
  const url = exports.REAL_MATOMO_URL;
  const token = exports.REAL_MATOMO_TOKEN;
  if (!url || !token) throw new Error(`start.sh printed no REAL_MATOMO_URL/REAL_MATOMO_TOKEN: ${stdout.slice(0, 200)}`);
  const found = { url, token, base: plan.base, pidFile: exports.REAL_MATOMO_PID_FILE, dbSocket: exports.REAL_MATOMO_DB_SOCKET };
  return connect(found, async () => {
    if (wasRunning) return;
    await run('bash', [join(REAL_MATOMO_TOOLBOX, 'stop.sh'), plan.base], { timeout: 120_000 });
  });
}

/** `export A=1 B='x y' …` (what start.sh prints) → {A: "1", B: "x y"}. */
export function parseExports(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/([A-Z_][A-Z0-9_]*)=(?:'([^']*)'|(\S*))/g)) out[m[1]!] = m[2] ?? m[3] ?? '';
  return out;
}

/** Matomo's bulk-tracking answer `{"status":"success","tracked":N,"invalid":M,…}`; throws on anything else. */
export function readTrackingAnswer(text: string): TrackingResult {
  let answer: unknown;
  try {
    answer = JSON.parse(text);
  } catch {
    throw new Error(`tracking answer is not JSON: ${text.slice(0, 200)}`);
  }
  const a = answer as { status?: unknown; tracked?: unknown; invalid?: unknown };
  if (a?.status !== 'success' || !Number.isInteger(a.tracked) || !Number.isInteger(a.invalid)) {
    throw new Error(`tracking failed: ${text.slice(0, 200)}`);
  }
  return { tracked: a.tracked as number, invalid: a.invalid as number };
}

function running(base: string): boolean {
  const alive = (file: string) => {
    try {
      process.kill(Number(readFileSync(join(base, 'run', file), 'utf8').trim()), 0);
      return true;
    } catch {
      return false;
    }
  };
  return alive('php.pid') && alive('mariadb.pid');
}

interface Found {
  url: string;
  token: string;
  base: string | undefined;
  pidFile: string | undefined;
  dbSocket: string | undefined;
}

function connect({ url: given, token, base, pidFile, dbSocket }: Found, stop: () => Promise<void>): RealMatomo {
  const url = given.endsWith('/') ? given : `${given}/`;
  const needBase = (what: string): string => {
    if (!base) throw new Error(`${what} needs a toolbox instance (REAL_MATOMO_BASE)`);
    return base;
  };
  return {
    url,
    token,
    base,
    pidFile,
    dbSocket,
    async api(method, params = {}) {
      const body = new URLSearchParams({ token_auth: token });
      for (const [k, v] of Object.entries(params)) body.set(k, String(v));
      const query = new URLSearchParams({ module: 'API', method, format: 'json' });
      // Long: the benchmark's archiving calls take minutes on a large site.
      const res = await fetch(`${url}index.php?${query.toString()}`, { method: 'POST', body, signal: AbortSignal.timeout(300_000) });
      const text = await res.text();
      if (res.status !== 200) throw new Error(`${method}: HTTP ${res.status}: ${text.slice(0, 300)}`);
      const answer = JSON.parse(text) as unknown;
      if ((answer as { result?: unknown } | null)?.result === 'error') throw new Error(`${method}: ${text.slice(0, 300)}`);
      return answer;
    },
    async track(hits) {
      const requests = hits.map(
        (hit) =>
          `?${new URLSearchParams({
            rec: '1',
            apiv: '1',
            send_image: '0',
            ...Object.fromEntries(Object.entries(hit).flatMap(([k, v]) => (v === undefined ? [] : [[k, String(v)]]))),
          }).toString()}`,
      );
      const res = await fetch(`${url}matomo.php`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ requests, token_auth: token }),
        signal: AbortSignal.timeout(120_000),
      });
      const text = await res.text();
      if (res.status !== 200) throw new Error(`tracking: HTTP ${res.status}: ${text.slice(0, 300)}`);
      return readTrackingAnswer(text);
    },
    console(args) {
      const cwd = join(needBase('console'), 'matomo');
      const result = spawnSync('php8.2', ['console', ...args], { cwd, encoding: 'utf8', timeout: 120_000 });
      if (result.status !== 0) throw new Error(`console ${args.join(' ')} failed: ${result.stdout}${result.stderr}`);
      return result.stdout;
    },
    sql(statement, stdin = false) {
      const socket = dbSocket ?? join(needBase('sql'), 'run', 'mysqld.sock');
      const args = ['--no-defaults', '-S', socket, '-uroot', '-N', '-B', 'matomo'];
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
