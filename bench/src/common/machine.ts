/** The machine a run measured on: CPU, memory, kernel, limits, load, and the versions of what was compared. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { redisServerVersionLine } from '@matomo-live/redis-ha';

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  kernel: string;
  node: string;
  fdLimit: string;
  loadAverageAtStart: string;
  versions: Record<string, string>;
}

function firstLine(command: string, args: string[]): string {
  try {
    return (
      execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
        .split('\n')[0]
        ?.trim() ?? '?'
    );
  } catch (error) {
    // nginx -v prints to stderr.
    const stderr = (error as { stderr?: string }).stderr;
    return stderr?.split('\n')[0]?.trim() || 'not installed';
  }
}

function packageVersion(root: string, name: string): string {
  try {
    return (JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}

export function describeMachine(root: string): MachineInfo {
  // nginx -v writes its version to stderr.
  const nginx = firstLine('sh', ['-c', 'nginx -v 2>&1']);
  return {
    cpu: cpus()[0]?.model ?? '?',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    fdLimit: firstLine('sh', ['-c', 'ulimit -n']),
    loadAverageAtStart: loadavg()
      .map((l) => l.toFixed(2))
      .join(' '),
    versions: {
      'ws (peers, load generators)': packageVersion(root, 'ws'),
      'ws (gateway)':
        packageVersion(join(root, 'gateway'), 'ws') === '?' ? packageVersion(root, 'ws') : packageVersion(join(root, 'gateway'), 'ws'),
      bufferutil: packageVersion(root, 'bufferutil'),
      'socket.io': packageVersion(root, 'socket.io'),
      '@socket.io/redis-adapter': packageVersion(root, '@socket.io/redis-adapter'),
      ioredis: packageVersion(root, 'ioredis'),
      'redis-server': redisServerVersionLine() ?? '?',
      nginx: nginx.replace(/^nginx version: /, ''),
    },
  };
}
