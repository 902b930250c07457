/** The Matomo-cost section of docs/BENCHMARKS.md: the load this poller and the reference loop put on a real Matomo. */
import { num, signed } from '../common/format';
import type { CostRow, MatomoCostResult } from './matomo-cost';

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
export function matomoCostSection(cost: MatomoCostResult | undefined): string {
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
