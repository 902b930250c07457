/** The storm section of docs/BENCHMARKS.md (storm-bench.ts's results). */
import type { StormResult, StormStep } from './storm-bench';

// NaN (no affected client) comes back from bench/results/latest.json as null (--render).
const ms = (v: number | undefined | null): string =>
  v === undefined || v === null || Number.isNaN(v) ? '—' : v.toLocaleString('en-US', { maximumFractionDigits: 0 });
const LABELS: Record<StormResult['server'], string> = {
  gateway: 'matomo-live gateway + `@matomo-live/client`',
  socketio: 'Socket.IO 4 + redis adapter + socket.io-client',
};

function row(result: StormResult, step: StormStep): string {
  const share =
    step.newShare === undefined ? '' : ` (new: ${(step.newShare * 100).toFixed(0)} %, ≥ 25 % after ${ms(step.timeTo25PercentMs)} ms)`;
  return `| ${LABELS[result.server]} | ${step.name} | ${step.affected} | ${ms(step.timeToLive.p50Ms)} | ${ms(step.timeToLive.p99Ms)} | ${ms(step.timeToLive.maxMs)} | ${ms(step.outage.p50Ms)} / ${ms(step.outage.p99Ms)} / ${ms(step.outage.maxMs)} | ${step.failedAttempts} | ${step.closes1013} | ${step.change.clients - step.change.reachedWithin5s} | ${step.duplicates + step.wireRepeats} | ${step.badCloses} | ${step.split.join(' / ')}${share} |`;
}

/** The comparison in one line: the same steps' numbers for both servers of a run, and their ratio (peer ÷ gateway). */
export function stormRatios(results: StormResult[]): string | undefined {
  const gateway = results.find((r) => r.server === 'gateway');
  const peer = results.find((r) => r.server === 'socketio');
  if (gateway === undefined || peer === undefined || gateway.steps.length === 0 || peer.steps.length === 0) return undefined;
  const steps = (r: StormResult, prefix: string) => r.steps.filter((s) => s.name.startsWith(prefix) && s.affected > 0);
  const worstP99 = (r: StormResult, prefix: string) => {
    const p99s = steps(r, prefix).map((s) => s.timeToLive.p99Ms);
    return p99s.length === 0 ? NaN : Math.max(...p99s.map((v) => v ?? NaN));
  };
  const failed = (r: StormResult) => r.steps.reduce((sum, s) => sum + s.failedAttempts + s.closes1013, 0);
  const ratio = (peerValue: number, ours: number) =>
    Number.isFinite(peerValue) && Number.isFinite(ours) && ours > 0 ? ` (${(peerValue / ours).toFixed(1)}×)` : '';
  const share = (r: StormResult) => `${((r.steps.find((s) => s.newShare !== undefined)?.newShare ?? 0) * 100).toFixed(0)} %`;
  const parts = [
    `new backend's share after scale-out ${share(gateway)} vs ${share(peer)}`,
    ...(['SIGKILL', 'SIGTERM'] as const).map((prefix) => {
      const [ours, theirs] = [worstP99(gateway, prefix), worstP99(peer, prefix)];
      return `${prefix === 'SIGKILL' ? 'SIGKILL' : 'rolling restart (worst SIGTERM)'} time-to-live p99 ${ms(ours)} ms vs ${ms(theirs)} ms${ratio(theirs, ours)}`;
    }),
    `failed attempts in all steps ${failed(gateway).toLocaleString('en-US')} vs ${failed(peer).toLocaleString('en-US')}`,
  ];
  return `**Same run, matomo-live vs Socket.IO** (Socket.IO ÷ matomo-live in brackets): ${parts.join('; ')}.`;
}

export function stormSection(results: StormResult[] | undefined): string {
  if (results === undefined || results.length === 0)
    return '## Storms: scale-out, SIGKILL, rolling restart\n\n(not run: `npm run bench -- --only=storm`)';
  const clients = results[0]?.clients ?? 0;
  const rows = results.flatMap((r) =>
    r.error && r.steps.length === 0
      ? [`| ${LABELS[r.server]} | failed: ${r.error.replace(/\|/g, '/').slice(0, 160)} | | | | | | | | | | | |`]
      : r.steps.map((s) => row(r, s)),
  );
  const ratios = stormRatios(results);
  const failures = results.filter((r) => r.error).map((r) => `- ${LABELS[r.server]} stopped early: ${r.error}`);
  return `## Storms: scale-out, SIGKILL, rolling restart

${clients.toLocaleString('en-US')} clients in three load-generator processes, through the shipped NGINX configuration (\`deploy/nginx/nginx.conf\` and \`matomo-live.conf\`, with only the \`server gateway:8080 …;\` line rewritten to three local backends, \`listen\` and the log paths moved; Debian's nginx) to three backends on one private Redis (\`bench/src/storm/storm-bench.ts\`). matomo-live: three \`gateway/dist/main.js\` (defaults, \`DRAIN_WINDOW=${results.find((r) => r.server === 'gateway')?.drainWindowMs ?? 5000}\`, per-IP and per-token limits raised: every client comes from 127.0.0.1) and the shipped client, \`connectLive\` (live = its \`status\` event with \`state: 'live'\`). Socket.IO: three \`bench/src/peers/socketio-server.ts\` (+ \`@socket.io/redis-adapter\`) and socket.io-client with its own reconnection (WebSocket transport, default delays); SIGTERM closes its engine, after which its clients reconnect by themselves.

Steps, in order: **scale-out 2→3** (the third backend's port is in the upstream from the start; it is started after every client is live; the step lasts 60 s); **SIGKILL one** once the split has settled (then it is started again and the fleet left to settle); a **rolling restart**: each backend in turn SIGTERMed and started again. **time-to-live** = from the step's start (the kill, the SIGTERM, the new backend) to each affected client's last \`live\`; **own outage** = each affected client's longest time not live in the step (for a client moved by a rebalance or a drain: from its close to \`live\` elsewhere). **failed** = attempts that never opened (refused, NGINX 502/503) plus 1013 closes. **missed** = clients that did not get the change published right after the step within 5 s. **twice** = a change handed over twice by the client library, or the same \`seq\` twice on one connection. **4xxx** = server closes in 4000–4899 other than 4005. Before this work the same run gave the numbers in docs/OPERATIONS.md, "Fleet dynamics".

| server | step | affected | time-to-live p50 ms | p99 ms | max ms | own outage p50 / p99 / max ms | failed | 1013 | missed | twice | 4xxx | split after |
| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |
${rows.join('\n')}
${ratios === undefined ? '' : `\n${ratios}\n`}
**Admission ceiling** (\`bench/src/storm/accept-bench.ts\`): one gateway process with \`ACCEPT_RATE\` out of the way, ${clients.toLocaleString('en-US')} clients opening as fast as three load-generator processes can (500 attempts in flight each; handshake, static token, the current 2 KiB snapshot sent), on the same 2 cores:

| path | connected | seconds | connections/s (this box) | gateway CPU per accept, ms | connections/s per gateway core |
| --- | ---: | ---: | ---: | ---: | ---: |
${results
  .flatMap((r) => r.accept ?? [])
  .map(
    (a) =>
      `| ${a.path === 'direct' ? 'to the gateway' : 'through NGINX'} | ${a.connected.toLocaleString('en-US')} / ${a.clients.toLocaleString('en-US')} | ${a.seconds.toFixed(2)} | ${ms(a.perSecond)} | ${a.gatewayCpuMsPerAccept.toFixed(3)} | ${ms(a.perCoreSecond)} |`,
  )
  .join('\n')}
${failures.length > 0 ? `\n${failures.join('\n')}\n` : ''}`;
}
