/**
 * The benchmark's use of the harness's process starter (@matomo-live/redis-ha):
 * every process it starts is killed on the way out — normal end, an
 * exception, or Ctrl-C — so a failed run leaves nothing behind, and only the
 * tail of its output is kept.
 */
import { startProcess as start, startRedisServer as launchRedis, type ServiceProcess, type StartOptions } from '@matomo-live/redis-ha';

export { freePort, waitForPort } from '@matomo-live/redis-ha';

export type StartedProcess = ServiceProcess;

/** Spawns a process that is killed when the benchmark exits; without `env` it inherits this process's environment. */
export function startProcess(command: string, args: string[], options: Pick<StartOptions, 'env' | 'cwd' | 'stdio'> = {}): StartedProcess {
  return start(command, args, { ...options, inheritEnv: options.env === undefined, outputLimit: 4096, killOnExit: true });
}

/** A private redis-server (no persistence) so other work on the machine does not share the benchmark's Redis. */
export async function startRedisServer(): Promise<{ url: string; process: { stop(): Promise<void> } }> {
  const redis = await launchRedis({ label: 'bench', killOnExit: true });
  return { url: redis.url, process: { stop: () => redis.kill() } };
}
