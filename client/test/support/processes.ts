import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from './wait-for';

export const REPO_ROOT = join(__dirname, '..', '..', '..');

/** A built entry point (`npm run build`), started as its own process with its output kept for failure messages. */
export interface ServiceProcess {
  child: ChildProcess;
  output: () => string;
  /** SIGKILL and wait for the exit. */
  kill(): Promise<void>;
}

export function startService(script: string, env: Record<string, string>): ServiceProcess {
  const path = join(REPO_ROOT, script);
  if (!existsSync(path)) throw new Error(`${script} is missing: run \`npm run build\` first`);
  const child = spawn(process.execPath, [path], { cwd: REPO_ROOT, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    output: () => output,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
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
