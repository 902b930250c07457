/** The visit events section of docs/BENCHMARKS.md. */
import { errorCell, num } from '../common/format';
import type { EventsResult } from './events-bench';

/** The visit events section: events/s one gateway pushes to N events clients, and bytes per visit against snapshots. */
export function eventsSection(events: EventsResult | undefined): string {
  const heading = '## Visit events: events/s to N clients, bytes against snapshots';
  const rerun = 'Rerun this section alone: `npm run bench -- --only=events` (about 2 min).';
  if (!events) return `${heading}\n\nNot measured in this run. ${rerun}`;
  const rows = events.runs
    .map((r) =>
      r.error
        ? `| ${num(r.clients)} | failed: ${errorCell(r.error, 200)} | | | | | | | |`
        : `| ${num(r.clients)} | ${num(r.rate)} | ${num(r.delivered)} / ${num(r.expected)} | ${num(r.perClientMin)} / ${num(r.published)} | ${num(r.duplicates)} | **${num(r.deliveredPerSecond)}** | ${num(r.p50Ms, 1)} | ${num(r.p99Ms, 1)} | ${num(r.gatewayCpuPercent)} % / ${num(r.gatewayCpuPer1kEventsMs, 1)} ms |`,
    )
    .join('\n');
  const b = events.bytes;
  const bytes = b
    ? `Bytes per visit, measured on the same gateway (its \`matomo_live_gateway_event_bytes_sent_total\` ÷ \`…events_sent_total\`) against the snapshot frame of the same site (${b.liveLimit} latest visits, three days, counters: what a client without events gets for every change):

| a client that follows every visit through | bytes per visit | ratio |
| --- | ---: | ---: |
| visit events (\`?events=visits\`) | ${num(b.eventFrameBytes)} | 1 |
| snapshots, one per visit (at most ${b.liveLimit} visits per tick, the rest are lost) | ${num(b.snapshotFrameBytes)} | ${num(b.snapshotFrameBytes / b.eventFrameBytes, 1)}× |

- A wall map following a site at 1 visit/s receives ${num((b.eventFrameBytes * 3600) / 1e6, 2)} MB/hour of events against ${num((b.snapshotFrameBytes * 3600) / 1e6, 2)} MB/hour of snapshots: events save ${num(100 * (1 - b.eventFrameBytes / b.snapshotFrameBytes))} % of the bytes, and lose nothing in bursts. An events client still gets every snapshot change (the totals); the saving is on what it would fetch to see each visit.
- A client that reconnects after a minute at that rate gets the 60 missed visits as ${num((60 * b.eventFrameBytes) / 1000, 1)} kB of replay (\`since=\`); snapshots cannot give them back at all.`
    : 'Bytes per visit: not measured.';
  return `${heading}

One gateway process (\`node gateway/dist/main.js\`, defaults), N clients connected with \`?events=visits\` from 2 load-generator processes (the fan-out bench's \`ws\` clients). Events are appended with the poller's own publish script (\`RedisSnapshotPublisher\` with an events write: XADD to the site's stream, one message on its events channel), in batches of rate ÷ 10 every 100 ms, each visit carrying its send time (CLOCK_MONOTONIC), so the latency is append→client including Redis. **events/s** = deliveries ÷ max(publishing time, first append → last receipt); **per-client min** is the fewest events one client got (every client must get every event: no loss, no duplicate). Gateway CPU is its user+system time over the window: where deliveries fall short while the gateway uses a fraction of a core, the two load-generator processes (which parse nothing but still receive every frame, on the same 2 cores) are the limit, not the gateway. Latencies are histogram bucket bounds. ${rerun}

| clients | offered events/s | delivered / expected | per-client min / published | duplicates | delivered events/s | p50 ms | p99 ms | gateway CPU (of one core) / per 1k events |
| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${rows}

${bytes}`;
}
