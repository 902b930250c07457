/**
 * A real Matomo 5 for tests (the team toolbox's `../shared/tools/real-matomo`:
 * PHP's built-in server and a private MariaDB on loopback, offline).
 *
 * realMatomoPlan() decides, synchronously (so a suite can `describe.skip`):
 * - REAL_MATOMO_URL + REAL_MATOMO_TOKEN set: use that Matomo (the suites
 *   that need its files or database, e.g. brute-force tests, do not);
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
import { REPO_ROOT } from './processes';

const run = promisify(execFile);

/**
 * The team toolbox's real Matomo (outside the repository: tests may use it, the product never does).
 * REAL_MATOMO_TOOLBOX points elsewhere (e.g. from a git worktree, whose `..` is not the checkout's).
 */
export const REAL_MATOMO_TOOLBOX = process.env.REAL_MATOMO_TOOLBOX ?? resolve(REPO_ROOT, '..', 'shared', 'tools', 'real-matomo');

/** Longest a start may take: apt-get on a bare machine, then Matomo's installer (seen: 75 s + 30 s). */
export const REAL_MATOMO_START_TIMEOUT_MS = 6 * 60_000;

export type RealMatomoPlan =
  | { kind: 'env'; url: string; token: string; base: string | undefined }
  | { kind: 'start'; base: string; keepBruteForce: boolean }
  | { kind: 'skip'; reason: string };

export interface RealMatomoPlanOptions {
  /** Needs a Matomo of its own with brute-force detection on for 127.0.0.1 (REAL_MATOMO_KEEP_BRUTEFORCE=1): never an external one. */
  bruteForce?: boolean;
}

/** `describe` when the plan can run; else `describe.skip` after a loud `*** SKIPPED …` warning with the reason. */
export function describeWithRealMatomo(plan: RealMatomoPlan, what: string): jest.Describe {
  if (plan.kind !== 'skip') return describe;
  console.warn(`\n*** SKIPPED ${what}: ${plan.reason}.\n*** The poller is NOT tested against a real Matomo on this machine.\n`);
  return describe.skip;
}

/** How a suite gets its real Matomo here, or why it cannot. `name` names the base directory. */
export function realMatomoPlan(name: string, { bruteForce = false }: RealMatomoPlanOptions = {}): RealMatomoPlan {
  const { REAL_MATOMO_URL: url, REAL_MATOMO_TOKEN: token } = process.env;
  if (url && token && !bruteForce)
    return { kind: 'env', url: url.endsWith('/') ? url : `${url}/`, token, base: process.env.REAL_MATOMO_BASE };
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
  const parent = process.env.REAL_MATOMO_TEST_DIR ?? '/tmp/matomo-live-real-matomo';
  return { kind: 'start', base: join(parent, name), keepBruteForce: bruteForce };
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
  /** One API call: module/method/format in the URL, token in the POST body. Resolves the JSON; rejects on HTTP ≠ 200. */
  api(method: string, params?: Record<string, string | number>): Promise<unknown>;
  /** Bulk tracking (`matomo.php`, JSON body, token included so cip/cdt/coordinates are accepted). */
  track(hits: TrackingHit[]): Promise<TrackingResult>;
  /** `php8.2 console …` in the Matomo tree (toolbox instances only). */
  console(args: string[]): string;
  /** One SQL statement as MariaDB root over the socket, tab-separated rows (toolbox instances only). */
  sql(statement: string): string;
  /** Stops the Matomo if this process started it (its data stays). */
  stop(): Promise<void>;
}

/** Starts (or finds) the Matomo a plan describes. Call from beforeAll with REAL_MATOMO_START_TIMEOUT_MS. */
export async function startRealMatomo(plan: Exclude<RealMatomoPlan, { kind: 'skip' }>): Promise<RealMatomo> {
  if (plan.kind === 'env') return connect(plan.url, plan.token, plan.base, async () => undefined);
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
  return connect(url, token, plan.base, async () => {
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

function connect(url: string, token: string, base: string | undefined, stop: () => Promise<void>): RealMatomo {
  const needBase = (what: string): string => {
    if (!base) throw new Error(`${what} needs a toolbox instance (REAL_MATOMO_BASE)`);
    return base;
  };
  return {
    url,
    token,
    base,
    async api(method, params = {}) {
      const body = new URLSearchParams({ token_auth: token });
      for (const [k, v] of Object.entries(params)) body.set(k, String(v));
      const query = new URLSearchParams({ module: 'API', method, format: 'json' });
      const res = await fetch(`${url}index.php?${query.toString()}`, { method: 'POST', body, signal: AbortSignal.timeout(120_000) });
      const text = await res.text();
      if (res.status !== 200) throw new Error(`${method}: HTTP ${res.status}: ${text.slice(0, 300)}`);
      return JSON.parse(text) as unknown;
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
    sql(statement) {
      const socket = join(needBase('sql'), 'run', 'mysqld.sock');
      const result = spawnSync('mariadb', ['--no-defaults', '-S', socket, '-uroot', '-N', '-B', 'matomo', '-e', statement], {
        encoding: 'utf8',
        timeout: 60_000,
      });
      if (result.status !== 0) throw new Error(`SQL failed: ${result.stderr}`);
      return result.stdout.trim();
    },
    stop,
  };
}
