/** The Redis HA section of docs/BENCHMARKS.md: failover timings under clients, PUBLISH against SPUBLISH on a cluster. */
import { errorCell, num } from '../common/format';
import { median } from '../common/stats';
import type { FailoverBenchResult, PublishCostResult } from './redis-ha-bench';

/** What `--only=ha` measured. */
export interface HaResults {
  failover: FailoverBenchResult[];
  publishCost: PublishCostResult[];
}

/** "median (min–max)" of `values`, ms → s with one decimal. */
function spread(values: number[]): string {
  if (values.length === 0) return '—';
  const s = (ms: number) => (ms / 1000).toFixed(1);
  return values.length === 1 ? `${s(values[0]!)} s` : `${s(median(values))} s (${s(Math.min(...values))}–${s(Math.max(...values))})`;
}

/** The Redis HA section: failover timings under clients, and the cost of a change with PUBLISH and SPUBLISH on a cluster. */
export function redisHaSection(ha: HaResults | undefined): string {
  if (ha === undefined) return '## Redis HA: failover and sharded pub/sub\n\n(not run: `npm run bench -- --only=ha`)';
  const failover = ha.failover
    .map((f) =>
      f.error
        ? `| ${f.mode} | failed: ${errorCell(f.error, 160)} | | | | | |`
        : `| ${f.mode} | ${f.topology} | ${f.rounds.length} | ${spread(f.rounds.map((r) => r.promotedMs))} | ${spread(f.rounds.map((r) => r.allClientsMs))} | ${spread(f.rounds.map((r) => r.afterPromotionMs))} | ${f.rounds.reduce((sum, r) => sum + r.disconnected, 0)} of ${f.rounds.reduce((sum, r) => sum + r.clients, 0)} |`,
    )
    .join('\n');
  const cost = ha.publishCost
    .map((c) =>
      c.error
        ? `| ${c.publish} | failed: ${errorCell(c.error, 160)} | | | | |`
        : `| ${c.publish} | ${num(c.commandsPerChange, 1)} | ${num(c.clientBytesPerChange)} | ${num(c.busMessagesPerChange, 1)} | ${num(c.busBytesPerChange)} | ${c.nodesServingSubscribers} |`,
    )
    .join('\n');
  const first = ha.publishCost.find((c) => !c.error);
  return `## Redis HA: failover and sharded pub/sub

\`bench/src/ha/redis-ha-bench.ts\`, real \`redis-server\` processes (\`tools/redis-ha\`). **Failover**: the poller (FETCH_INTERVAL=250 ms), ${ha.failover[0]?.gateways ?? 2} gateway processes and ${ha.failover[0]?.clients ?? '?'} WebSocket clients on one site; the simulator adds a visit every 200 ms. Each round starts a fresh topology, SIGKILLs the master (in the Cluster, the one owning the site's slot), and measures from the kill to a replica answering \`role:master\` and to the moment **every** client holds a snapshot published after the kill (seqs are clock-ms based: seq > kill time). Timings are median (min–max) over the rounds.

| mode | topology | rounds | kill → promoted | kill → next change at every client | promoted → every client | clients disconnected |
| --- | --- | ---: | ---: | ---: | ---: | ---: |
${failover}

**A change's cost on a 6-node Cluster** (3 masters, 3 replicas) with ${first?.subscribers ?? 3} subscribing gateways: the poller's publish script ${first ? `× ${first.changes}, ${first.payloadBytes} B snapshots` : ''}, once with classic \`PUBLISH\` (each gateway \`SUBSCRIBE\`d on whichever node it reached) and once with \`SPUBLISH\` (each gateway \`SSUBSCRIBE\`d on the master owning the slot, as matomo-live does). Commands are Redis's \`commandstats\` over all nodes (the script's own calls included); client bytes are \`total_net_input_bytes\` + \`total_net_output_bytes\`; bus messages are \`cluster_stats_messages_publish(shard)_sent\`; bus bytes are each node's written bytes (\`/proc/<pid>/io\`) minus client and replication output, idle gossip subtracted.

| publish | Redis commands / change | client bytes in+out / change | cluster-bus messages / change | cluster-bus bytes / change | nodes writing to subscribers |
| --- | ---: | ---: | ---: | ---: | ---: |
${cost}`;
}
