/** The end-to-end section of docs/BENCHMARKS.md: simulator change → poller → Redis → gateways → NGINX → clients. */
import { num } from '../common/format';
import type { E2eResult } from './e2e-bench';

/** The section for `e2e` (undefined: not run), measured with `settings` (the poll interval). */
export function e2eSection(e2e: E2eResult | undefined, settings: Record<string, string>): string {
  return `## End to end through NGINX and 3 gateways

Simulator change (\`POST /_sim/visits\`) → poller (FETCH_INTERVAL=${settings['e2e poll interval'] ?? '?'}) → Redis → ${e2e?.gateways ?? 3} gateway processes → NGINX (\`bench/src/common/nginx.ts\`: the installed nginx binary, generated config, least_conn upstream as in deploy/nginx, HTTP/1.1 upgrade, no buffering) → Node \`ws\` clients. **publish→client** is measured from the moment the poller's publish reaches a Redis subscriber in the benchmark process to each client's receipt of that \`seq\` (same process, same clock), so the poll interval is excluded; **change→publish** (waiting for the next tick + one Matomo request) is shown apart.

${
  e2e
    ? e2e.error
      ? `Failed: ${e2e.error}`
      : `| clients | gateways | publishes | delivered / expected | publish→client p50 ms | p99 ms | max ms | change→publish p50 ms | max ms |
| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
| ${e2e.connected} | ${e2e.gateways} | ${e2e.publishes} | ${num(e2e.delivered)} / ${num(e2e.expected)} | ${num(e2e.p50Ms, 2)} | ${num(e2e.p99Ms, 2)} | ${num(e2e.maxMs, 1)} | ${num(e2e.pickupP50Ms)} | ${num(e2e.pickupMaxMs)} |`
    : '(not run)'
}
`;
}
