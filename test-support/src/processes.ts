/**
 * Child processes for tests: built entry points started with the harness's
 * process starter (@matomo-live/redis-ha, process.ts), build checks, and
 * waiting for a service's HTTP endpoint.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { REPO_ROOT, startProcess, waitFor, type ServiceProcess, type StartOptions } from '@matomo-live/redis-ha';

export { REPO_ROOT, startProcess, type ServiceProcess, type StartOptions } from '@matomo-live/redis-ha';

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
