/**
 * A real Matomo 5 for tests: the harness's helper (@matomo-live/redis-ha,
 * real-matomo.ts, shared with the benchmark) and the suite guard.
 */
import type { RealMatomoPlan } from '@matomo-live/redis-ha';

export {
  parseExports,
  readTrackingAnswer,
  REAL_MATOMO_START_TIMEOUT_MS,
  REAL_MATOMO_TOOLBOX,
  realMatomoPlan,
  startRealMatomo,
  type RealMatomo,
  type RealMatomoPlan,
  type RealMatomoPlanOptions,
  type TrackingHit,
  type TrackingResult,
} from '@matomo-live/redis-ha';

/** `describe` when the plan can run; else `describe.skip` after a loud `*** SKIPPED …` warning with the reason. */
export function describeWithRealMatomo(plan: RealMatomoPlan, what: string): jest.Describe {
  if (plan.kind !== 'skip') return describe;
  console.warn(`\n*** SKIPPED ${what}: ${plan.reason}.\n*** The poller is NOT tested against a real Matomo on this machine.\n`);
  return describe.skip;
}
