/**
 * Child processes for tests: a built entry point (or any command) started on
 * its own, its stdout and stderr kept whole for assertions and failure
 * messages, waited on by what it prints, and stopped.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { waitFor } from './wait-for';

export const REPO_ROOT = join(__dirname, '..', '..');

export interface StartOptions {
  /**
   * The child's variables. By default its environment is only PATH plus
   * these (no inherited *_FILE, SSL_* or REDIS_URL from the runner); with
   * `inheritEnv`, this process's environment plus these. An undefined value
   * removes that variable.
   */
  env?: Record<string, string | undefined>;
  inheritEnv?: boolean;
  /** Default: the repository root. */
  cwd?: string;
}

export interface ServiceProcess {
  child: ChildProcess;
  /** Everything it printed so far, stdout and stderr as they arrived. */
  output(): string;
  /** Resolves with the exit code (null when a signal ended it). */
  exited: Promise<number | null>;
  /**
   * Resolves with the first match of `pattern` in the output. Rejects with the
   * output if the process exits first, or once `timeoutMs` has passed if given.
   */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** SIGKILL (if still running) and wait for the exit. */
  kill(): Promise<void>;
}

/** Fails with how to fix it when a build output (relative to the repository root, or absolute) is missing. */
export function requireBuilt(...paths: string[]): void {
  for (const path of paths) {
    const full = resolve(REPO_ROOT, path);
    if (!existsSync(full)) throw new Error(`${relative(REPO_ROOT, full)} is missing: run \`npm run build\` first`);
  }
}

/** Runs `tsc -b` on one workspace (a no-op when it is up to date), so a test of its dist/ never runs stale output. */
export function buildWorkspace(dir: string): void {
  const build = spawnSync('npx', ['tsc', '-b', dir], { encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`tsc -b ${relative(REPO_ROOT, dir)} failed: ${build.stdout}${build.stderr}`);
}

/** A built script (relative to the repository root, or absolute) run with this Node. */
export function startService(
  script: string,
  env: Record<string, string | undefined> = {},
  options: Omit<StartOptions, 'env'> = {},
): ServiceProcess {
  requireBuilt(script);
  return startProcess(process.execPath, [resolve(REPO_ROOT, script)], { ...options, env });
}

export function startProcess(
  command: string,
  args: string[],
  { env = {}, inheritEnv = false, cwd = REPO_ROOT }: StartOptions = {},
): ServiceProcess {
  const childEnv: Record<string, string | undefined> = inheritEnv ? { ...process.env, ...env } : { PATH: process.env.PATH ?? '', ...env };
  for (const [name, value] of Object.entries(childEnv)) if (value === undefined) delete childEnv[name];
  const child = spawn(command, args, { cwd, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const listeners = new Set<() => void>();
  const keep = (chunk: Buffer) => {
    output += chunk.toString();
    for (const listener of [...listeners]) listener();
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));
  const hasExited = () => child.exitCode !== null || child.signalCode !== null;

  const waitForOutput = (pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray> =>
    new Promise((resolveMatch, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = () => {
        listeners.delete(check);
        child.off('exit', onExit);
        clearTimeout(timer);
      };
      const check = () => {
        const match = pattern.exec(output);
        if (!match) return false;
        finish();
        resolveMatch(match);
        return true;
      };
      const onExit = () => {
        if (check()) return;
        finish();
        reject(
          new Error(`${command} ${args.join(' ')} exited (${child.exitCode ?? child.signalCode}) before printing ${pattern}:\n${output}`),
        );
      };
      if (check()) return;
      if (hasExited()) return onExit();
      listeners.add(check);
      child.once('exit', onExit);
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          finish();
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${pattern} from ${command} ${args.join(' ')}:\n${output}`));
        }, timeoutMs);
      }
    });

  return {
    child,
    output: () => output,
    exited,
    waitForOutput,
    kill: async () => {
      if (!hasExited()) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Waits until GET `url` answers 200, failing early with the service's output if it died. */
export async function waitForHttpOk(url: string, service: ServiceProcess, timeoutMs = 20_000): Promise<void> {
  await waitFor(
    async () => {
      if (service.child.exitCode !== null) throw new Error(`service exited with ${service.child.exitCode}:\n${service.output()}`);
      try {
        return (await fetch(url)).ok;
      } catch {
        return false;
      }
    },
    `${url} to answer 200`,
    timeoutMs,
  );
}
