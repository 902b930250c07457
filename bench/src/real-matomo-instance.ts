/**
 * The real Matomo 5 the Matomo-cost benchmark measures, from the harness's
 * real-Matomo helper (@matomo-live/redis-ha). It must run on this machine
 * (its PHP processes and MariaDB are measured from /proc and over the
 * database socket): REAL_MATOMO_URL, _TOKEN, _PID_FILE and _DB_SOCKET (what
 * the toolbox's start.sh exports) name one; otherwise, as root, the
 * benchmark starts its own with the team toolbox in
 * /tmp/matomo-live-bench/real-matomo (REAL_MATOMO_BENCH_BASE) and stops it
 * at the end.
 */
import { dirname, basename } from 'node:path';
import { realMatomoPlan, startRealMatomo, type RealMatomo } from '@matomo-live/redis-ha';

export type BenchMatomo = RealMatomo & { pidFile: string; dbSocket: string };

export async function benchMatomo(log: (line: string) => void): Promise<BenchMatomo | { skip: string }> {
  const base = process.env.REAL_MATOMO_BENCH_BASE ?? '/tmp/matomo-live-bench/real-matomo';
  const plan = realMatomoPlan(basename(base), { needsProcesses: true, parent: dirname(base) });
  if (plan.kind === 'skip') return { skip: `no real Matomo: ${plan.reason}` };
  log(
    plan.kind === 'env'
      ? `real Matomo from the environment: ${plan.url}`
      : `starting a real Matomo 5 in ${plan.base} (first time: apt-get + installer, about a minute)`,
  );
  const matomo = await startRealMatomo(plan);
  const { pidFile, dbSocket } = matomo;
  if (!pidFile || !dbSocket) {
    await matomo.stop();
    throw new Error('the real Matomo has no PID file or database socket (start.sh exports REAL_MATOMO_PID_FILE and REAL_MATOMO_DB_SOCKET)');
  }
  return { ...matomo, pidFile, dbSocket };
}
