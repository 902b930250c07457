/** The command line of `npm run bench` (run.ts): its options, read with node:util parseArgs, and its usage text. */
import { parseArgs } from 'node:util';
import { BENCH_PARTS } from './report';

/** Options that take a value (`--name=value` or `--name value`): the value's placeholder and the usage line. */
const VALUE_OPTIONS = {
  only: ['PARTS', `${BENCH_PARTS.join(',')} (default all); a subset rewrites only its sections of docs/BENCHMARKS.md`],
  servers: [
    'LIST',
    'fan-out servers: gateway,gateway-ws-send,ws,socketio (default gateway,ws,socketio; gateway-ws-send = BROADCAST_FAST_PATH=false)',
  ],
  sizes: ['N,N', 'fan-out client counts (default 1000,5000,10000; --quick 200,1000)'],
  rates: ['N,N', 'fan-out updates/s (default 1,10)'],
  duration: ['S', 'fan-out publishing time per rate, s (default 10; --quick 3)'],
  'matomo-window': ['S', 'matomo-cost: window per scenario, s (default 60; --quick 15)'],
  'matomo-rounds': ['N', 'matomo-cost: rounds on the seeded site (default 2; --quick 1)'],
  'matomo-busy-rounds': ['N', 'matomo-cost: rounds on the busy site (default 1; --quick 0)'],
  'event-sizes': ['N,N', 'events: client counts (default 100,1000; --quick 100)'],
  'event-rates': ['N,N', 'events: events/s (default 20,200,1000; --quick 20,200)'],
  'storm-clients': ['N', 'storm: clients (default 6000; --quick 600)'],
  'storm-servers': ['LIST', 'storm: gateway,socketio (default both)'],
  'storm-site': ['FILE', 'storm: another NGINX site file than deploy/nginx/matomo-live.conf (before/after runs)'],
} as const;

/** Flags, with the usage line of each. */
const FLAG_OPTIONS = {
  quick:
    'small sizes, short runs: prints its numbers and writes bench/results/quick.json, leaves docs/BENCHMARKS.md and latest.json to full runs',
  'write-docs': 'with --quick: write docs/BENCHMARKS.md and latest.json anyway',
  'no-write': 'print only, write nothing',
  render: 'rewrite docs/BENCHMARKS.md from bench/results/latest.json and bench/ANALYSIS.md, without measuring',
  help: 'this text',
} as const;

export type ValueOption = keyof typeof VALUE_OPTIONS;
export type FlagOption = keyof typeof FLAG_OPTIONS;

export interface RunOptions {
  /** The value given for `name`, if any. */
  option(name: ValueOption): string | undefined;
  /** Whether the flag `name` was given. */
  flag(name: FlagOption): boolean;
}

const usageLines = [
  ...Object.entries(VALUE_OPTIONS).map(([name, [value, text]]) => [`--${name}=${value}`, text] as const),
  ...Object.entries(FLAG_OPTIONS).map(([name, text]) => [`--${name}`, text] as const),
];
const width = Math.max(...usageLines.map(([left]) => left.length)) + 2;

export const USAGE = `Usage: npm run bench -- [options]

Measures fan-out (gateway, bare ws, Socket.IO), the poller, the load on a real Matomo, end to end, Redis HA,
visit events and reconnect storms, then writes docs/BENCHMARKS.md and bench/results/latest.json.

${usageLines.map(([left, text]) => `  ${left.padEnd(width)}${text}`).join('\n')}

Environment: BENCH_SERVER_NODE_ARGS (extra node flags for the server under test, e.g. --cpu-prof),
BENCH_GATEWAY_MAIN (another gateway build), BENCH_NOTE (a note for the report). REDIS_URL is ignored on
purpose: a private redis-server is started so other work sharing a Redis cannot disturb the numbers.
`;

/** Reads `argv` (without node and the script); throws on an unknown option or a missing value, naming it. */
export function readRunOptions(argv: string[]): RunOptions {
  const options = {
    ...Object.fromEntries(Object.keys(VALUE_OPTIONS).map((name) => [name, { type: 'string' as const }])),
    ...Object.fromEntries(Object.keys(FLAG_OPTIONS).map((name) => [name, { type: 'boolean' as const }])),
  };
  const { values } = parseArgs({ args: argv, options, strict: true, allowPositionals: false });
  return {
    option: (name) => values[name] as string | undefined,
    flag: (name) => values[name] === true,
  };
}

/** A comma-separated list of positive numbers (others dropped), or `fallback` when the option was not given. */
export function numberList(text: string | undefined, fallback: number[]): number[] {
  return text
    ? text
        .split(',')
        .map(Number)
        .filter((n) => n > 0)
    : fallback;
}
