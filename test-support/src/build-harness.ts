/**
 * Imported for its effect, first, by jest-global-setup.ts: jest loads global
 * setup modules with Node's own resolution, which finds @matomo-live/redis-ha
 * (the redis-server launcher) in tools/redis-ha/dist. Building it here (a
 * no-op when up to date) makes a fresh clone work and never runs a stale
 * launcher.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const REPO_ROOT = join(__dirname, '..', '..');
const tsc = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const build = spawnSync(process.execPath, [tsc, '-b', join(REPO_ROOT, 'tools', 'redis-ha')], { encoding: 'utf8' });
if (build.status !== 0) throw new Error(`tsc -b tools/redis-ha (the test harness) failed: ${build.stdout}${build.stderr}`);
