/**
 * The one process starter of tests and benchmarks: a command started on its
 * own, its stdout and stderr kept (whole, or a tail) for assertions and
 * failure messages, waited on by what it prints, and stopped.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { join } from 'node:path';

/** The repository root (this file is tools/redis-ha/src or tools/redis-ha/dist). */
export const REPO_ROOT = join(__dirname, '..', '..', '..');

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
  /** Default: stdin ignored, stdout and stderr piped (add 'ipc' for a child that talks over IPC). */
  stdio?: StdioOptions;
  /** Keep only the last this many characters of output. Default: all of it. */
  outputLimit?: number;
  /** SIGKILL it when this process exits or gets SIGINT/SIGTERM/SIGHUP (a benchmark must leave nothing behind). Default false. */
  killOnExit?: boolean;
}

export interface ServiceProcess {
  child: ChildProcess;
  pid: number;
  /** Everything it printed so far (or its tail, see outputLimit), stdout and stderr as they arrived. */
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
  /** SIGTERM, then SIGKILL after `graceMs` (default 3000); resolves once it exited. */
  stop(graceMs?: number): Promise<void>;
}

const killedOnExit = new Set<ChildProcess>();
let exitHooksInstalled = false;

function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  const killAll = () => {
    for (const child of killedOnExit) child.kill('SIGKILL');
  };
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      killAll();
      process.exit(130);
    });
  }
}

export function startProcess(
  command: string,
  args: string[],
  { env = {}, inheritEnv = false, cwd = REPO_ROOT, stdio = ['ignore', 'pipe', 'pipe'], outputLimit, killOnExit = false }: StartOptions = {},
): ServiceProcess {
  const childEnv: Record<string, string | undefined> = inheritEnv ? { ...process.env, ...env } : { PATH: process.env.PATH ?? '', ...env };
  for (const [name, value] of Object.entries(childEnv)) if (value === undefined) delete childEnv[name];
  const child = spawn(command, args, { cwd, env: childEnv, stdio });
  if (killOnExit) {
    installExitHooks();
    killedOnExit.add(child);
  }
  let output = '';
  const listeners = new Set<() => void>();
  const keep = (chunk: Buffer) => {
    output += chunk.toString();
    if (outputLimit !== undefined && output.length > 2 * outputLimit) output = output.slice(-outputLimit);
    for (const listener of [...listeners]) listener();
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  // 'error' (e.g. ENOENT) comes instead of 'exit' when the command cannot start.
  const exited = new Promise<number | null>((resolveExit) => {
    child.once('exit', (code) => resolveExit(code));
    child.once('error', (error) => {
      output += `\n${error.message}`;
      resolveExit(null);
    });
  });
  void exited.then(() => killedOnExit.delete(child));
  let ended = false;
  void exited.then(() => (ended = true));
  const hasExited = () => ended || child.exitCode !== null || child.signalCode !== null;
  const tail = () => (outputLimit !== undefined ? output.slice(-outputLimit) : output);

  const waitForOutput = (pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray> =>
    new Promise((resolveMatch, reject) => {
      let timer: NodeJS.Timeout | undefined;
      let done = false;
      const finish = () => {
        done = true;
        listeners.delete(check);
        clearTimeout(timer);
      };
      const check = () => {
        const match = pattern.exec(output);
        if (!match || done) return false;
        finish();
        resolveMatch(match);
        return true;
      };
      const onExit = () => {
        if (done || check()) return;
        finish();
        reject(
          new Error(`${command} ${args.join(' ')} exited (${child.exitCode ?? child.signalCode}) before printing ${pattern}:\n${tail()}`),
        );
      };
      if (check()) return;
      if (hasExited()) return onExit();
      listeners.add(check);
      void exited.then(onExit);
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          finish();
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${pattern} from ${command} ${args.join(' ')}:\n${tail()}`));
        }, timeoutMs);
      }
    });

  return {
    child,
    pid: child.pid ?? 0,
    output: tail,
    exited,
    waitForOutput,
    kill: async () => {
      if (!hasExited()) child.kill('SIGKILL');
      await exited;
    },
    stop: async (graceMs = 3000) => {
      if (hasExited()) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
