/** The fan-out section of docs/BENCHMARKS.md: the three servers' table, the ratios, the gateway's own view, the fast path. */
import { errorCell, kib, num } from '../common/format';
import { SERVER_LABELS, type FanoutResult } from './fanout-bench';
import { efficiencyRatio, findRow, memoryRatio } from './fanout-ratios';

export function fanoutTable(rows: FanoutResult[]): string {
  const head =
    '| server | clients | updates/s | delivered / expected | delivered msg/s | first-client p50 ms | p50 ms | p99 ms | max ms | server CPU ms per 1k deliveries | server CPU % of a core | load-gen CPU ms per 1k | RSS KiB/client idle | RSS KiB/client under load | closes |\n' +
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n';
  return (
    head +
    rows
      .map((r) =>
        r.error
          ? `| ${SERVER_LABELS[r.server]} | ${r.clients} | — | failed: ${errorCell(r.error, 160)} | | | | | | | | | | | |`
          : `| ${SERVER_LABELS[r.server]} | ${num(r.clients)} | ${r.rate} | ${num(r.delivered)} / ${num(r.expected)} | ${num(r.deliveredPerSecond)} | ${num(r.firstClientP50Ms, 2)} | ${num(r.p50Ms, 2)} | ${num(r.p99Ms, 2)} | ${num(r.maxMs, 1)} | ${num(r.serverCpuPer1kDeliveriesMs, 1)} | ${num(r.serverCpuPercent)} | ${num(r.loadGeneratorCpuPer1kDeliveriesMs, 1)} | ${kib(r.idleRssPerClientBytes)} | ${kib(r.loadRssPerClientBytes)} | ${
              Object.entries(r.closes)
                .map(([c, n]) => `${c}×${n}`)
                .join(' ') || '—'
            } |`,
      )
      .join('\n')
  );
}

/** The gateway with its shared-frame fast path against itself with BROADCAST_FAST_PATH=false, when both ran. */
export function fastPathTable(rows: FanoutResult[]): string {
  const lines = rows
    .filter((r) => r.server === 'gateway' && !r.error)
    .flatMap((on) => {
      const off = findRow(rows, 'gateway-ws-send', on.clients, on.rate);
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
      const ws = findRow(rows, 'ws', gw.clients, gw.rate);
      const sio = findRow(rows, 'socketio', gw.clients, gw.rate);
      return `| ${num(gw.clients)} | ${gw.rate} | ${num(efficiencyRatio(gw, ws), 2)}× | ${num(efficiencyRatio(gw, sio), 2)}× | ${num(memoryRatio(gw, ws), 2)}× | ${num(memoryRatio(gw, sio), 2)}× |`;
    });
  return (
    '| clients | updates/s | deliveries per CPU-s vs bare ws | vs Socket.IO | idle RSS/client: bare ws ÷ gateway | Socket.IO ÷ gateway |\n' +
    '| ---: | ---: | ---: | ---: | ---: | ---: |\n' +
    lines.join('\n')
  );
}

/** The section for `rows`, measured with `settings` (the run's settings line). */
export function fanoutSection(rows: FanoutResult[], settings: Record<string, string>): string {
  const sizes = [...new Set(rows.map((r) => r.clients))];
  return `## Fan-out: three servers, same run, same load generator, same payloads

Settings: ${Object.entries(settings)
    .map(([k, v]) => `${k} ${v}`)
    .join('; ')}.

What is compared:

- **matomo-live gateway** — \`node gateway/dist/main.js\` with its defaults (token check on connect, heartbeat, send-buffer limit, metrics), \`VALID_TOKENS\` set, per-IP and per-token limits raised so 10k clients from one address are allowed, \`DASHBOARD_DIR=off\`, \`LOG_LEVEL=warn\`. Clients connect to \`/?token=…\`.
- **bare ws broadcast** (\`bench/src/peers/ws-broadcast-server.ts\`) — the ws README's broadcast loop: for every Redis message \`client.send(bytes)\` to every open client; cached snapshot on connect; nothing else (no tokens, limits, heartbeat or slow-consumer handling). The ceiling for a ws-based server.
- **Socket.IO 4 + @socket.io/redis-adapter** (\`bench/src/peers/socketio-server.ts\`) — WebSocket transport only, no per-message deflate. The publisher is a second, server-less Socket.IO node calling \`io.emit('snapshot', object)\`; the adapter carries it through Redis (msgpack) and the server encodes the packet once and writes it to every socket — Socket.IO's documented multi-node setup (\`@socket.io/redis-emitter\` is not installed; it would publish the same adapter message). Clients are the same \`ws\` clients speaking Engine.IO v4 / Socket.IO v5 framing (answering pings), so the load generator costs the same for all three.
- The gateway and the bare ws server get the poller's publish: \`MULTI SET key PUBLISH channel\` with the same bytes.
- Every message is a ${settings['payload'] ?? '2048 B'} snapshot in the real format (\`encodeSnapshot()\`), with the publisher's send time (CLOCK_MONOTONIC, one clock for all processes) in an extra \`bench_sent_at\` field; clients find it and \`seq\` with a byte search (no JSON.parse), so the latency is publish→receive including Redis.
- **delivered msg/s** = deliveries ÷ max(publishing time, first publish → last receipt); it equals clients × updates/s when a server keeps up. **CPU per 1k deliveries** = server process user+system CPU (from \`/proc/<pid>/stat\`) over the publishing and drain window ÷ deliveries × 1000 — "at equal CPU" comparisons use its inverse. **RSS per client** = (RSS after connecting and ${settings['idle wait'] ?? ''} idle − RSS before the first client) ÷ clients; "under load" uses the peak RSS sampled every 200 ms while publishing.
- Each server process is started fresh for each client count; sizes run one after the other, and within one size the three servers run back to back.

${fanoutTable(rows)}

${sizes.length ? '' : '(no fan-out results)'}

Gateway against the peers (above 1 = the gateway is better):

${ratioTable(rows)}

The gateway's own view of the same runs, from its \`/metrics\`: the lag from receiving a snapshot from Redis to writing it to the last client socket of its broadcast, one observation per change plus one per deferred write (\`matomo_live_gateway_send_lag_seconds\`, so values are bucket bounds), and the messages its latest-wins policy skipped for clients whose previous write had not completed (those clients got the newer snapshot instead; the bare ws server queues them instead, which is why its latency grows without bound when the clients cannot keep up).

| clients | updates/s | send lag p50 ≤ ms | send lag p99 ≤ ms | skipped (latest wins) |
| ---: | ---: | ---: | ---: | ---: |
${rows
  .filter((r) => r.server === 'gateway' && !r.error && r.gatewaySendLagP99Ms !== undefined)
  .map(
    (r) =>
      `| ${num(r.clients)} | ${r.rate} | ${num(r.gatewaySendLagP50Ms ?? NaN, 1)} | ${num(r.gatewaySendLagP99Ms ?? NaN, 1)} | ${num(r.gatewaySkippedMessages ?? NaN)} |`,
  )
  .join('\n')}

### The broadcast fast path on and off

The gateway frames each broadcast once and writes that one frame to every socket (\`gateway/src/sessions/broadcast-writer.ts\`, which checks the ws internals it needs at start-up). \`BROADCAST_FAST_PATH=false\` (or a ws release without those internals) sends through \`ws.send\` per client instead: same bytes on the wire, more CPU.

${fastPathTable(rows)}
`;
}
