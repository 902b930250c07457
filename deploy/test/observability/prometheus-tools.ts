// Where the tests find Debian's promtool and prometheus (.ci/run unpacks the
// package into a cache and exports PROMTOOL and PROMETHEUS_BIN), and the one
// loud line a test prints when they are absent.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

const ENV = { promtool: 'PROMTOOL', prometheus: 'PROMETHEUS_BIN' } as const;

/** The binary to use: its variable (PROMTOOL, PROMETHEUS_BIN), else .ci/run's cache, else PATH; undefined when there is none. */
export function findPrometheusTool(name: 'promtool' | 'prometheus'): string | undefined {
  const candidates = [
    process.env[ENV[name]],
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'matomo-live-ci', 'prometheus', 'usr', 'bin', name),
  ];
  for (const candidate of candidates) if (candidate && existsSync(candidate)) return candidate;
  const onPath = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  return onPath.status === 0 ? onPath.stdout.trim() : undefined;
}

/** The warning of a skipped part: what is not checked, and how to get the binary. */
export function missingToolWarning(name: 'promtool' | 'prometheus', notChecked: string): string {
  return (
    `\n*** SKIPPED: no ${name} (set ${ENV[name]}, or run .ci/run which fetches Debian's prometheus package into ~/.cache/matomo-live-ci/prometheus;\n` +
    `*** by hand: cd /tmp && apt-get download prometheus && dpkg -x prometheus_*.deb /tmp/prom, then ${ENV[name]}=/tmp/prom/usr/bin/${name}).\n` +
    `*** ${notChecked} NOT checked on this machine.\n`
  );
}
