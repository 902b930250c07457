/** Turns one benchmark run into docs/BENCHMARKS.md: machine, versions, commands, tables, targets. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import type { E2eResult } from './e2e/e2e-bench';
import type { EventsResult } from './events/events-bench';
import { SERVER_LABELS, type FanoutResult, type ServerKind } from './fanout/fanout-bench';
import type { CostRow, MatomoCostResult } from './matomo-cost/matomo-cost';
import type { PollerResult } from './poller/poller-bench';
import type { FailoverBenchResult, PublishCostResult } from './ha/redis-ha-bench';
import type { StormResult } from './storm/storm-bench';
import { stormSection } from './storm/storm-report';
import { median } from './common/stats';

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

/** The parts a run can measure (`--only=`); each owns its sections of docs/BENCHMARKS.md. */
export const BENCH_PARTS = ['fanout', 'poller', 'matomo-cost', 'e2e', 'ha', 'events', 'storm'] as const;
export type BenchPart = (typeof BENCH_PARTS)[number];

export interface HaResults {
  failover: FailoverBenchResult[];
  publishCost: PublishCostResult[];
}

export interface BenchRun {
  startedAt: string;
  minutes: number;
  command: string;
  quick: boolean;
  machine: MachineInfo;
  settings: Record<string, string>;
  /** The parts this run measured; absent in runs before sections existed (= all but ha). */
  parts?: BenchPart[];
  fanout: FanoutResult[];
  poller: PollerResult[];
  e2e: E2eResult | undefined;
  ha?: HaResults;
  /** The Matomo-side cost on a real Matomo (`--only=matomo-cost`). */
  matomoCost?: MatomoCostResult | undefined;
  /** Visit events: events/s to N clients and bytes per visit (`--only=events`). */
  events?: EventsResult | undefined;
  storm?: StormResult[];
  notes: string[];
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
      'redis-server': firstLine('redis-server', ['--version']),
      nginx: nginx.replace(/^nginx version: /, ''),
    },
  };
}

const num = (v: number, digits = 0): string =>
  v === null || Number.isNaN(v) ? '—' : v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const kib = (bytes: number): string => (bytes === null || Number.isNaN(bytes) ? '—' : (bytes / 1024).toFixed(1));

export function fanoutTable(rows: FanoutResult[]): string {
  const head =
    '| server | clients | updates/s | delivered / expected | delivered msg/s | first-client p50 ms | p50 ms | p99 ms | max ms | server CPU ms per 1k deliveries | server CPU % of a core | load-gen CPU ms per 1k | RSS KiB/client idle | RSS KiB/client under load | closes |\n' +
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n';
  return (
    head +
    rows
      .map((r) =>
        r.error
          ? `| ${SERVER_LABELS[r.server]} | ${r.clients} | — | failed: ${r.error.replace(/\|/g, '/').slice(0, 160)} | | | | | | | | | | | |`
          : `| ${SERVER_LABELS[r.server]} | ${num(r.clients)} | ${r.rate} | ${num(r.delivered)} / ${num(r.expected)} | ${num(r.deliveredPerSecond)} | ${num(r.firstClientP50Ms, 2)} | ${num(r.p50Ms, 2)} | ${num(r.p99Ms, 2)} | ${num(r.maxMs, 1)} | ${num(r.serverCpuPer1kDeliveriesMs, 1)} | ${num(r.serverCpuPercent)} | ${num(r.loadGeneratorCpuPer1kDeliveriesMs, 1)} | ${kib(r.idleRssPerClientBytes)} | ${kib(r.loadRssPerClientBytes)} | ${
              Object.entries(r.closes)
                .map(([c, n]) => `${c}×${n}`)
                .join(' ') || '—'
            } |`,
      )
      .join('\n')
  );
}

interface Target {
  name: string;
  measured: string;
  met: boolean | undefined;
}

/** "At equal CPU": deliveries per CPU-second of `a` over those of `b` (the inverse ratio of CPU per 1k deliveries). */
function efficiencyRatio(a?: FanoutResult, b?: FanoutResult): number {
  return a && b ? b.serverCpuPer1kDeliveriesMs / a.serverCpuPer1kDeliveriesMs : Number.NaN;
}

function memoryRatio(a?: FanoutResult, b?: FanoutResult): number {
  return a && b ? b.idleRssPerClientBytes / a.idleRssPerClientBytes : Number.NaN;
}

/** The gateway with its shared-frame fast path against itself with BROADCAST_FAST_PATH=false, when both ran. */
export function fastPathTable(rows: FanoutResult[]): string {
  const lines = rows
    .filter((r) => r.server === 'gateway' && !r.error)
    .flatMap((on) => {
      const off = find(rows, 'gateway-ws-send', on.clients, on.rate);
      if (!off) return [];
      return [
        `| ${num(on.clients)} | ${on.rate} | ${num(on.serverCpuPer1kDeliveriesMs, 1)} | ${num(off.serverCpuPer1kDeliveriesMs, 1)} | ${num(efficiencyRatio(on, off), 2)}× | ${num(on.firstClientP50Ms, 2)} | ${num(off.firstClientP50Ms, 2)} |`,
      ];
    });
  if (lines.length === 0) {
    return 'Not in this run. Measure it with `npm run bench -- --only=fanout --servers=gateway,gateway-ws-send` (the same gateway, started once with `BROADCAST_FAST_PATH=false`).';
  }
  return (
    '| clients | updates/s | server CPU ms / 1k deliveries, fast path | with ws.send | deliveries per CPU-s, fast ÷ ws.send | first-client p50 ms, fast | with ws.send |\n' +
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n' +
    lines.join('\n')
  );
}

/** The gateway against each peer, per size and rate. */
function ratioTable(rows: FanoutResult[]): string {
  const lines = rows
    .filter((r) => r.server === 'gateway' && !r.error)
    .map((gw) => {
      const ws = find(rows, 'ws', gw.clients, gw.rate);
      const sio = find(rows, 'socketio', gw.clients, gw.rate);
      return `| ${num(gw.clients)} | ${gw.rate} | ${num(efficiencyRatio(gw, ws), 2)}× | ${num(efficiencyRatio(gw, sio), 2)}× | ${num(memoryRatio(gw, ws), 2)}× | ${num(memoryRatio(gw, sio), 2)}× |`;
    });
  return (
    '| clients | updates/s | deliveries per CPU-s vs bare ws | vs Socket.IO | idle RSS/client: bare ws ÷ gateway | Socket.IO ÷ gateway |\n' +
    '| ---: | ---: | ---: | ---: | ---: | ---: |\n' +
    lines.join('\n')
  );
}

function find(rows: FanoutResult[], server: ServerKind, clients: number, rate: number): FanoutResult | undefined {
  return rows.find((r) => r.server === server && r.clients === clients && r.rate === rate && !r.error);
}

export function evaluateTargets(run: BenchRun): Target[] {
  const rows = run.fanout;
  const largest = Math.max(0, ...rows.filter((r) => !r.error).map((r) => r.clients));
  const slowest = Math.min(...rows.filter((r) => !r.error).map((r) => r.rate));
  // Headline at the largest size and the slowest rate: every server keeps up there, so all do the same work.
  const gw = find(rows, 'gateway', largest, slowest);
  const ws = find(rows, 'ws', largest, slowest);
  const sio = find(rows, 'socketio', largest, slowest);
  const targets: Target[] = [];
  const vsWs = efficiencyRatio(gw, ws);
  targets.push({
    name: `gateway ≥ 0.9× bare-ws deliveries/s at equal CPU (${num(largest)} clients, ${slowest}/s; other sizes in the ratio table)`,
    measured: `${num(vsWs, 2)}× (deliveries per CPU-second); delivered msg/s ${num(gw?.deliveredPerSecond ?? NaN)} vs ${num(ws?.deliveredPerSecond ?? NaN)}`,
    met: Number.isNaN(vsWs) ? undefined : vsWs >= 0.9,
  });
  const vsSio = efficiencyRatio(gw, sio);
  targets.push({
    name: `gateway ≥ 3× Socket.IO (${num(largest)} clients, ${slowest}/s, deliveries per CPU-second)`,
    measured: `${num(vsSio, 2)}×; memory per idle connection ${num(memoryRatio(gw, sio), 1)}× smaller`,
    met: Number.isNaN(vsSio) ? undefined : vsSio >= 3,
  });
  const p99Row = find(rows, 'gateway', 10_000, 1) ?? find(rows, 'gateway', largest, slowest);
  targets.push({
    name: 'p99 publish→receive ≤ 25 ms at 10k clients and 1 update/s',
    measured: p99Row ? `${num(p99Row.p99Ms, 2)} ms at ${num(p99Row.clients)} clients, ${p99Row.rate}/s` : 'not measured',
    met: p99Row && p99Row.clients >= 10_000 ? p99Row.p99Ms <= 25 : undefined,
  });
  const idle = rows.filter((r) => r.server === 'gateway' && r.clients === largest && !r.error)[0];
  targets.push({
    name: '≤ 8 KB RSS per idle connection',
    measured: idle ? `${kib(idle.idleRssPerClientBytes)} KiB at ${num(largest)} clients` : 'not measured',
    met: idle ? idle.idleRssPerClientBytes <= 8 * 1024 : undefined,
  });
  const poller = run.poller.find((p) => p.poller === 'matomo-live poller' && !p.error);
  targets.push({
    name: '1 Matomo request per tick',
    measured: poller ? `${num(poller.requestsPerTick, 2)} requests/tick (${poller.ticks} ticks)` : 'not measured',
    met: poller ? poller.requestsPerTick <= 1.0001 : undefined,
  });
  return targets;
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
        ? `| ${f.mode} | failed: ${f.error.replace(/\|/g, '/').slice(0, 160)} | | | | | |`
        : `| ${f.mode} | ${f.topology} | ${f.rounds.length} | ${spread(f.rounds.map((r) => r.promotedMs))} | ${spread(f.rounds.map((r) => r.allClientsMs))} | ${spread(f.rounds.map((r) => r.afterPromotionMs))} | ${f.rounds.reduce((sum, r) => sum + r.disconnected, 0)} of ${f.rounds.reduce((sum, r) => sum + r.clients, 0)} |`,
    )
    .join('\n');
  const cost = ha.publishCost
    .map((c) =>
      c.error
        ? `| ${c.publish} | failed: ${c.error.replace(/\|/g, '/').slice(0, 160)} | | | | |`
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

/** Scenario ÷ reference, both net of the idle window (nothing polling). */
function netRatio(row: CostRow | undefined, reference: CostRow | undefined, idle: CostRow | undefined, key: keyof CostRow): number {
  if (!row || !reference) return Number.NaN;
  const base = (idle?.[key] as number | undefined) ?? 0;
  return ((row[key] as number) - base) / ((reference[key] as number) - base);
}

function costTable(rows: CostRow[]): string {
  return (
    '| scenario | HTTP requests / min | API calls / min | PHP CPU s / min | mariadbd CPU s / min | SQL statements / min | rows read / min | writes / min |\n' +
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n' +
    rows
      .map(
        (r) =>
          `| ${r.scenario} | ${num(r.requestsPerMin)} | ${num(r.apiCallsPerMin)} | ${num(r.phpCpuSPerMin, 2)} | ${num(r.dbCpuSPerMin, 2)} | ${num(r.sqlPerMin)} | ${num(r.rowsReadPerMin)} | ${num(r.writesPerMin)} |`,
      )
      .join('\n')
  );
}

/** The Matomo-side cost section: this poller and the reference loop on a real Matomo 5. */
export function matomoCostSection(run: BenchRun): string {
  const cost = run.matomoCost;
  const heading = "## Load on the user's Matomo: this poller against the reference loop, on a real Matomo 5";
  const rerun =
    'Rerun this section alone: `npm run bench -- --only=matomo-cost` (about 13 min; `--matomo-window=S --matomo-rounds=N --matomo-busy-rounds=N`).';
  let body: string;
  if (!cost) body = `Not measured in this run. ${rerun}`;
  else if (cost.skipped) body = `Not measured: ${cost.skipped}. ${rerun}`;
  else {
    const sites = [...new Set(cost.rows.map((r) => r.site))];
    const idle = cost.rows.find((r) => r.scenario === 'idle');
    const parts = sites.map((site) => {
      const rows = cost.rows.filter((r) => r.site === site);
      const find = (scenario: CostRow['scenario']) => rows.find((r) => r.scenario === scenario);
      const ours = find('matomo-live poller');
      const reference = find('reference loop');
      const off = find('poller, TODAY_INTERVAL=0');
      const everyTick = find('poller, TODAY_INTERVAL=1000');
      const delta = (a: CostRow | undefined, b: CostRow | undefined) =>
        a && b
          ? `${signed(a.phpCpuSPerMin - b.phpCpuSPerMin, 2)} s PHP, ${signed(a.dbCpuSPerMin - b.dbCpuSPerMin, 2)} s mariadbd, ${signed(a.sqlPerMin - b.sqlPerMin, 0)} SQL statements, ${signed(a.rowsReadPerMin - b.rowsReadPerMin, 0)} rows read per minute`
          : 'not measured';
      return `### ${site[0]!.toUpperCase()}${site.slice(1)}: ${cost.siteNotes[site] ?? ''}

${costTable(rows)}

- **This poller ÷ the reference loop** (idle subtracted): PHP CPU **${num(netRatio(ours, reference, idle, 'phpCpuSPerMin'), 2)}×**, SQL statements **${num(netRatio(ours, reference, idle, 'sqlPerMin'), 2)}×**, mariadbd CPU ${num(netRatio(ours, reference, idle, 'dbCpuSPerMin'), 2)}×, rows read ${num(netRatio(ours, reference, idle, 'rowsReadPerMin'), 2)}×, HTTP requests ${num(netRatio(ours, reference, undefined, 'requestsPerMin'), 2)}×.
- **Live "today"** (\`TODAY_INTERVAL\` 10 s, the default, against 0): ${delta(ours, off)}.${everyTick ? ` Every tick (\`TODAY_INTERVAL=1000\`) instead: ${delta(everyTick, off)}.` : ''}`;
    });
    body = `Matomo ${cost.matomoVersion ?? '?'} from \`../shared/tools/real-matomo\` (PHP 8.2 built-in server with 8 workers, MariaDB, on this machine). ${rerun}

Each scenario polls alone, for windows of ${cost.windowS} s${cost.windowS >= 60 ? ' (each holds one `SUMMARY_INTERVAL` and six `TODAY_INTERVAL`s)' : ' (**shorter than SUMMARY_INTERVAL: a smoke run, not the real numbers**)'}, with FETCH_INTERVAL=${cost.intervalMs} ms for both pollers, interleaved over rounds; medians shown. **matomo-live poller** is \`node poller/dist/main.js\` with its defaults (one bulk request per tick; \`TODAY_INTERVAL\` 10 s; \`SUMMARY_INTERVAL\` 60 s); **reference loop** is \`bench/src/poller/reference-poller.ts\`, 7 POSTs per tick; **idle** is nobody polling (PHP's and MariaDB's own background). PHP CPU is the user+system time of the \`php -S\` process group, mariadbd CPU that of the database server (both from /proc), SQL statements MariaDB's \`Questions\`, rows read its \`Handler_read_*\` (the work behind the statements), writes its INSERT/UPDATE/DELETE/REPLACE (archiving), HTTP requests and API calls counted by a proxy in front of Matomo. The days asked for are archived before measuring (the first request after Matomo's 900 s cache pays for archiving, whoever sends it). The busy site is a UTC site filled by SQL (\`bench/src/matomo-cost/matomo-busy-site.ts\`).

${parts.join('\n\n')}`;
    if (cost.error) body += `\n\nThe measurement FAILED part way: ${cost.error}`;
  }
  return `${heading}

${body}`;
}

/** The visit events section: events/s one gateway pushes to N events clients, and bytes per visit against snapshots. */
export function eventsSection(events: EventsResult | undefined): string {
  const heading = '## Visit events: events/s to N clients, bytes against snapshots';
  const rerun = 'Rerun this section alone: `npm run bench -- --only=events` (about 2 min).';
  if (!events) return `${heading}\n\nNot measured in this run. ${rerun}`;
  const rows = events.runs
    .map((r) =>
      r.error
        ? `| ${num(r.clients)} | failed: ${r.error.replace(/\|/g, '/').slice(0, 200)} | | | | | | | |`
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

function signed(v: number, digits: number): string {
  return Number.isNaN(v) ? '—' : `${v >= 0 ? '+' : '−'}${num(Math.abs(v), digits)}`;
}

/** The block of `text` between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->`, markers included; undefined when absent. */
export function sectionOf(text: string, name: string): string | undefined {
  const start = text.indexOf(`<!-- bench:${name} -->`);
  const endMarker = `<!-- /bench:${name} -->`;
  const end = text.indexOf(endMarker, start);
  return start < 0 || end < 0 ? undefined : text.slice(start, end + endMarker.length);
}

/**
 * docs/BENCHMARKS.md for `run`. Each measured part lives in its own block
 * between `<!-- bench:NAME -->` markers that says which run measured it; a
 * block of a part this run did not measure is taken from `previous` (the file
 * as it was) when it is there, so `--only=ha` rewrites the Redis HA numbers
 * and keeps every other section's.
 */
export function renderMarkdown(run: BenchRun, analysis: string, previous = ''): string {
  const m = run.machine;
  const parts = new Set<BenchPart>(run.parts ?? ['fanout', 'poller', 'e2e']);
  const load = (text: string) => text.split(' ')[0] ?? text;
  const measuredBy = `_Measured by \`${run.command}\` on ${run.startedAt} (${m.cpu}, ${m.cores} cores, load average ${load(m.loadAverageAtStart)} at the start)${run.quick ? ' — **quick mode: small sizes and short runs, not the real numbers**' : ''}._`;
  const section = (name: string, ran: boolean, render: () => string): string =>
    (!ran ? sectionOf(previous, name) : undefined) ??
    `<!-- bench:${name} -->\n${ran ? `${measuredBy}\n\n` : ''}${render().trim()}\n<!-- /bench:${name} -->`;
  const fullRun = parts.has('fanout') && parts.has('poller') && parts.has('e2e');
  return `# Benchmarks

Generated by \`npm run bench\` (bench/src/run.ts). Each section says which run measured it, on which machine: \`npm run bench\` measures every part, \`npm run bench -- --only=ha\` (or \`fanout\`, \`poller\`, \`matomo-cost\`, \`e2e\`, \`events\`, \`storm\`) one part and keeps the other sections as they were.
Rerun: \`npm run bench\` (it builds what it runs; full, ~34 min on this machine, 13 of them on a real Matomo and 11 in the storms) or \`npm run bench -- --quick\` (~3 min). Raw numbers: \`bench/results/latest.json\` (git-ignored, local to the machine that ran it).

${section(
  'machine',
  fullRun,
  () => `## Machine

| | |
| --- | --- |
| CPU | ${m.cpu}, ${m.cores} cores |
| memory | ${m.memoryGiB} GiB |
| kernel | Linux ${m.kernel} |
| Node | ${m.node} |
| open files limit | ${m.fdLimit} |
| load average at start | ${m.loadAverageAtStart} |
${Object.entries(m.versions)
  .map(([k, v]) => `| ${k} | ${v} |`)
  .join('\n')}

${run.notes.map((n) => `- ${n}`).join('\n')}`,
)}

${section('targets', parts.has('fanout') && parts.has('poller'), () => {
  const targets = evaluateTargets(run);
  return `## Targets (issue 7)

| target | measured | met |
| --- | --- | --- |
${targets.map((t) => `| ${t.name} | ${t.measured} | ${t.met === undefined ? 'not measured' : t.met ? '**yes**' : '**no**'} |`).join('\n')}
`;
})}

${section('fanout', parts.has('fanout'), () => {
  const sizes = [...new Set(run.fanout.map((r) => r.clients))];
  return `## Fan-out: three servers, same run, same load generator, same payloads

Settings: ${Object.entries(run.settings)
    .map(([k, v]) => `${k} ${v}`)
    .join('; ')}.

What is compared:

- **matomo-live gateway** — \`node gateway/dist/main.js\` with its defaults (token check on connect, heartbeat, send-buffer limit, metrics), \`VALID_TOKENS\` set, per-IP and per-token limits raised so 10k clients from one address are allowed, \`DASHBOARD_DIR=off\`, \`LOG_LEVEL=warn\`. Clients connect to \`/?token=…\`.
- **bare ws broadcast** (\`bench/src/peers/ws-broadcast-server.ts\`) — the ws README's broadcast loop: for every Redis message \`client.send(bytes)\` to every open client; cached snapshot on connect; nothing else (no tokens, limits, heartbeat or slow-consumer handling). The ceiling for a ws-based server.
- **Socket.IO 4 + @socket.io/redis-adapter** (\`bench/src/peers/socketio-server.ts\`) — WebSocket transport only, no per-message deflate. The publisher is a second, server-less Socket.IO node calling \`io.emit('snapshot', object)\`; the adapter carries it through Redis (msgpack) and the server encodes the packet once and writes it to every socket — Socket.IO's documented multi-node setup (\`@socket.io/redis-emitter\` is not installed; it would publish the same adapter message). Clients are the same \`ws\` clients speaking Engine.IO v4 / Socket.IO v5 framing (answering pings), so the load generator costs the same for all three.
- The gateway and the bare ws server get the poller's publish: \`MULTI SET key PUBLISH channel\` with the same bytes.
- Every message is a ${run.settings['payload'] ?? '2048 B'} snapshot in the real format (\`encodeSnapshot()\`), with the publisher's send time (CLOCK_MONOTONIC, one clock for all processes) in an extra \`bench_sent_at\` field; clients find it and \`seq\` with a byte search (no JSON.parse), so the latency is publish→receive including Redis.
- **delivered msg/s** = deliveries ÷ max(publishing time, first publish → last receipt); it equals clients × updates/s when a server keeps up. **CPU per 1k deliveries** = server process user+system CPU (from \`/proc/<pid>/stat\`) over the publishing and drain window ÷ deliveries × 1000 — "at equal CPU" comparisons use its inverse. **RSS per client** = (RSS after connecting and ${run.settings['idle wait'] ?? ''} idle − RSS before the first client) ÷ clients; "under load" uses the peak RSS sampled every 200 ms while publishing.
- Each server process is started fresh for each client count; sizes run one after the other, and within one size the three servers run back to back.

${fanoutTable(run.fanout)}

${sizes.length ? '' : '(no fan-out results)'}

Gateway against the peers (above 1 = the gateway is better):

${ratioTable(run.fanout)}

The gateway's own view of the same runs, from its \`/metrics\`: the lag from receiving a snapshot from Redis to writing it to the last client socket of its broadcast, one observation per change plus one per deferred write (\`matomo_live_gateway_send_lag_seconds\`, so values are bucket bounds), and the messages its latest-wins policy skipped for clients whose previous write had not completed (those clients got the newer snapshot instead; the bare ws server queues them instead, which is why its latency grows without bound when the clients cannot keep up).

| clients | updates/s | send lag p50 ≤ ms | send lag p99 ≤ ms | skipped (latest wins) |
| ---: | ---: | ---: | ---: | ---: |
${run.fanout
  .filter((r) => r.server === 'gateway' && !r.error && r.gatewaySendLagP99Ms !== undefined)
  .map(
    (r) =>
      `| ${num(r.clients)} | ${r.rate} | ${num(r.gatewaySendLagP50Ms ?? NaN, 1)} | ${num(r.gatewaySendLagP99Ms ?? NaN, 1)} | ${num(r.gatewaySkippedMessages ?? NaN)} |`,
  )
  .join('\n')}

### The broadcast fast path on and off

The gateway frames each broadcast once and writes that one frame to every socket (\`gateway/src/shared-frames.ts\`, which checks the ws internals it needs at start-up). \`BROADCAST_FAST_PATH=false\` (or a ws release without those internals) sends through \`ws.send\` per client instead: same bytes on the wire, more CPU.

${fastPathTable(run.fanout)}
`;
})}

${section('poller', parts.has('poller'), () => {
  const poller = run.poller;
  return `## Poller: requests, bytes and CPU per tick against the simulator

Both pollers poll the same simulator (\`node tools/matomo-sim/dist/main.js\`, a synthetic visit every ${run.settings['poller visit every'] ?? '?'}) at the same time with FETCH_INTERVAL=${run.settings['poller interval'] ?? '?'}, each through its own counting proxy (\`bench/src/common/counting-proxy.ts\`): requests, request and response **body** bytes (HTTP headers excluded), API calls (sub-requests of a bulk request counted one by one) and ticks (= \`Live.getLastVisitsDetails\` calls). CPU is the poller process's user+system time. The reference loop (\`bench/src/poller/reference-poller.ts\`) is a faithful re-implementation of the one-file script's loop: 7 POSTs per tick (1 × Live.getLastVisitsDetails + 3 days × 2 VisitsSummary.get). Note the matomo-live poller also publishes to Redis (counted in its CPU); the reference only builds its message.

| poller | ticks | HTTP requests / tick | API calls / tick | request bytes / tick | response bytes / tick | CPU ms / tick | RSS MiB |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${poller
  .map((p) =>
    p.error
      ? `| ${p.poller} | failed: ${p.error.replace(/\|/g, '/').slice(0, 200)} | | | | | | |`
      : `| ${p.poller} | ${p.ticks} | ${num(p.requestsPerTick, 2)} | ${num(p.apiCallsPerTick, 2)} | ${num(p.requestBytesPerTick)} | ${num(p.responseBytesPerTick)} | ${num(p.cpuMsPerTick, 2)} | ${num(p.rssBytes / 2 ** 20, 1)} |`,
  )
  .join('\n')}
`;
})}

${section('matomo-cost', parts.has('matomo-cost'), () => matomoCostSection(run))}

${section('e2e', parts.has('e2e'), () => {
  const e2e = run.e2e;
  return `## End to end through NGINX and 3 gateways

Simulator change (\`POST /_sim/visits\`) → poller (FETCH_INTERVAL=${run.settings['e2e poll interval'] ?? '?'}) → Redis → ${e2e?.gateways ?? 3} gateway processes → NGINX (\`bench/src/common/nginx.ts\`: the installed nginx binary, generated config, least_conn upstream as in deploy/nginx, HTTP/1.1 upgrade, no buffering) → Node \`ws\` clients. **publish→client** is measured from the moment the poller's publish reaches a Redis subscriber in the benchmark process to each client's receipt of that \`seq\` (same process, same clock), so the poll interval is excluded; **change→publish** (waiting for the next tick + one Matomo request) is shown apart.

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
})}

${section('redis-ha', parts.has('ha'), () => redisHaSection(run.ha))}

${section('events', parts.has('events'), () => eventsSection(run.events))}

${section('storm', parts.has('storm'), () => stormSection(run.storm))}

## Analysis

${analysis}

## How to run

\`\`\`sh
npm run bench          # builds what it runs (tsc -b), then everything; writes docs/BENCHMARKS.md and bench/results/latest.json
npm run bench -- --quick                          # 200 and 1000 clients, short runs; prints, writes bench/results/quick.json, leaves this file alone
npm run bench -- --only=fanout --sizes=1000,5000 --servers=gateway,ws
npm run bench -- --only=fanout --servers=gateway,gateway-ws-send   # the broadcast fast path on and off
npm run bench -- --only=poller,e2e --no-write     # print only
npm run bench -- --only=ha                         # Redis Sentinel/Cluster failover, PUBLISH vs SPUBLISH; the other sections stay
npm run bench -- --only=events                     # visit events: events/s to N clients, bytes per visit against snapshots (~2 min)
npm run bench -- --only=matomo-cost                # the load on a real Matomo (root, ../shared/tools/real-matomo); the other sections stay
npm run bench -- --only=storm                      # 6,000 clients: scale-out, SIGKILL, rolling restart; gateway and Socket.IO (--storm-clients=N, --storm-servers=gateway)
npm run bench -- --render                          # rewrite this file from bench/results/latest.json + bench/ANALYSIS.md
BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" npm run bench -- --only=fanout --servers=gateway --sizes=5000 --no-write
\`\`\`

The full benchmark is not part of CI; \`bench/test/fanout-smoke.test.ts\` (a few hundred clients, every client must receive every message) is.
The server under test needs one file descriptor per client: the open-files limit above bounds the largest size (20k clients need more than this machine's hard limit of ${m.fdLimit}).
`;
}
