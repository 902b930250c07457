/** The poller section of docs/BENCHMARKS.md: requests, bytes and CPU per tick, this poller against the reference loop. */
import { errorCell, num } from '../common/format';
import type { PollerResult } from './poller-bench';

/** The section for `rows`, measured with `settings` (poller interval, visit rate). */
export function pollerSection(rows: PollerResult[], settings: Record<string, string>): string {
  return `## Poller: requests, bytes and CPU per tick against the simulator

Both pollers poll the same simulator (\`node tools/matomo-sim/dist/main.js\`, a synthetic visit every ${settings['poller visit every'] ?? '?'}) at the same time with FETCH_INTERVAL=${settings['poller interval'] ?? '?'}, each through its own counting proxy (\`bench/src/common/counting-proxy.ts\`): requests, request and response **body** bytes (HTTP headers excluded), API calls (sub-requests of a bulk request counted one by one) and ticks (= \`Live.getLastVisitsDetails\` calls). CPU is the poller process's user+system time. The reference loop (\`bench/src/poller/reference-poller.ts\`) is a faithful re-implementation of the one-file script's loop: 7 POSTs per tick (1 × Live.getLastVisitsDetails + 3 days × 2 VisitsSummary.get). Note the matomo-live poller also publishes to Redis (counted in its CPU); the reference only builds its message.

| poller | ticks | HTTP requests / tick | API calls / tick | request bytes / tick | response bytes / tick | CPU ms / tick | RSS MiB |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${rows
  .map((p) =>
    p.error
      ? `| ${p.poller} | failed: ${errorCell(p.error, 200)} | | | | | | |`
      : `| ${p.poller} | ${p.ticks} | ${num(p.requestsPerTick, 2)} | ${num(p.apiCallsPerTick, 2)} | ${num(p.requestBytesPerTick)} | ${num(p.responseBytesPerTick)} | ${num(p.cpuMsPerTick, 2)} | ${num(p.rssBytes / 2 ** 20, 1)} |`,
  )
  .join('\n')}
`;
}
