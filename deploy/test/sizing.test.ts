// The gateway's connection cap and memory limit against the planning figures
// of docs/OPERATIONS.md "Sizing" (150 MiB + 10 KiB per connection), in the
// Kubernetes base and in docker-compose.yml: at MAX_CONNECTIONS the process
// must still fit, or the kernel kills it before the cap answers 1013. The
// documented table must say what the files set, and the planning figure must
// cover what docs/BENCHMARKS.md measured.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { REPO_ROOT } from './docker-cli';

const KIB = 1024;
const MIB = 1024 * KIB;
/** The planning figures of docs/OPERATIONS.md "Sizing". */
const PER_CONNECTION = 10 * KIB;
const BASELINE = 150 * MIB;

const read = (file: string) => readFileSync(join(REPO_ROOT, file), 'utf8');
const sizingDoc = (() => {
  const text = read('docs/OPERATIONS.md');
  const start = text.indexOf('<!-- section:sizing -->');
  const end = text.indexOf('<!-- /section:sizing -->');
  if (start < 0 || end < start) throw new Error('docs/OPERATIONS.md has no sizing section');
  return text.slice(start, end);
})();

/** Bytes of a Kubernetes quantity in whole Mi or Gi; undefined for any other form. */
function k8sBytes(quantity: string): number | undefined {
  const m = /^(\d+)(Mi|Gi)$/.exec(quantity);
  return m ? Number(m[1]) * (m[2] === 'Gi' ? 1024 * MIB : MIB) : undefined;
}

/** Bytes of a compose memory size in whole m or g (Docker's units are powers of 1024). */
function composeBytes(size: string): number | undefined {
  const m = /^(\d+)([mg])$/.exec(size);
  return m ? Number(m[1]) * (m[2] === 'g' ? 1024 * MIB : MIB) : undefined;
}

/** The default of a `${NAME:-default}` reference. */
function composeDefault(value: string | undefined, name: string): string | undefined {
  return value === undefined ? undefined : new RegExp(`^\\$\\{${name}:-([^}]+)\\}$`).exec(String(value))?.[1];
}

/** Why a cap does not fit its limit, or undefined. */
function fitProblem(maxConnections: number, limitBytes: number | undefined): string | undefined {
  if (limitBytes === undefined) return 'memory limit not in whole Mi/Gi (m/g in compose)';
  const atCap = BASELINE + PER_CONNECTION * maxConnections;
  return atCap < limitBytes ? undefined : `${(atCap / MIB).toFixed(0)} MiB at the cap ≥ limit ${(limitBytes / MIB).toFixed(0)} MiB`;
}

/** Cells of the sizing table row whose first cell starts with `where`. */
function docRow(where: string): string[] {
  const line = sizingDoc.split('\n').find((l) => l.startsWith(`| ${where}`));
  if (line === undefined) throw new Error(`no "${where}" row in docs/OPERATIONS.md "Sizing"`);
  return line
    .split('|')
    .slice(1, -1)
    .map((c) => c.trim());
}

describe('Kubernetes base', () => {
  const maxConnections = Number(/^MAX_CONNECTIONS=(\d+)$/m.exec(read('deploy/k8s/base/gateway.env'))?.[1]);
  const deployment = parseAllDocuments(read('deploy/k8s/base/gateway-deployment.yaml'))[0]!.toJSON() as {
    spec: {
      template: {
        spec: { containers: Array<{ name: string; resources: { requests: Record<string, string>; limits: Record<string, string> } }> };
      };
    };
  };
  const resources = deployment.spec.template.spec.containers.find((c) => c.name === 'gateway')!.resources;

  test('MAX_CONNECTIONS in gateway.env fits the memory limit at 10 KiB per connection + 150 MiB', () => {
    expect(maxConnections).toBeGreaterThan(0);
    expect(fitProblem(maxConnections, k8sBytes(resources.limits.memory!))).toBeUndefined();
  });

  test('docs/OPERATIONS.md "Sizing" states the same cap, limit, memory at the cap and requests', () => {
    const [, cap, limit, atCap, memoryRequest, cpuRequest] = docRow('Kubernetes');
    expect([cap, limit, memoryRequest, cpuRequest]).toEqual([
      String(maxConnections),
      resources.limits.memory,
      resources.requests.memory,
      resources.requests.cpu,
    ]);
    expect(atCap).toBe(`${Math.round((BASELINE + PER_CONNECTION * maxConnections) / MIB)} MiB`);
  });
});

describe('docker-compose.yml', () => {
  const gateway = (
    parse(read('docker-compose.yml')) as {
      services: Record<string, { environment: Record<string, string>; mem_limit?: string; ulimits?: { nofile?: string } }>;
    }
  ).services.gateway!;
  const maxConnections = Number(composeDefault(gateway.environment.MAX_CONNECTIONS, 'MAX_CONNECTIONS'));
  const memLimit = composeDefault(gateway.mem_limit, 'GATEWAY_MEMORY_LIMIT');
  const nofile = Number(composeDefault(String(gateway.ulimits?.nofile), 'NOFILE_LIMIT'));

  test('the default MAX_CONNECTIONS fits the default mem_limit and stays under the descriptor limit', () => {
    expect(maxConnections).toBeGreaterThan(0);
    expect(fitProblem(maxConnections, memLimit === undefined ? undefined : composeBytes(memLimit))).toBeUndefined();
    expect(maxConnections).toBeLessThan(nofile);
  });

  test('docs/OPERATIONS.md "Sizing" states the same defaults', () => {
    const [, cap, limit, atCap] = docRow('Docker Compose');
    expect([cap, limit]).toEqual([String(maxConnections), memLimit]);
    expect(atCap).toBe(`${Math.round((BASELINE + PER_CONNECTION * maxConnections) / MIB)} MiB`);
  });
});

describe('planning figures', () => {
  test('10 KiB per connection covers the RSS per client docs/BENCHMARKS.md measured at 10,000 clients, idle and busy', () => {
    const bench = read('docs/BENCHMARKS.md').split('\n');
    const header = bench.find((l) => l.includes('RSS KiB/client idle') && l.includes('RSS KiB/client under load'));
    if (header === undefined) throw new Error('docs/BENCHMARKS.md: no fan-out table with RSS KiB/client columns');
    const columns = header.split('|').map((c) => c.trim());
    const idle = columns.indexOf('RSS KiB/client idle');
    const busy = columns.indexOf('RSS KiB/client under load');
    const rows = bench.filter((l) => /^\| matomo-live gateway \| 10,000 \|/.test(l)).map((l) => l.split('|').map((c) => c.trim()));
    expect(rows.length).toBeGreaterThan(0);
    const measuredIdle = Math.max(...rows.map((r) => Number(r[idle])));
    const measuredBusy = Math.max(...rows.map((r) => Number(r[busy])));
    expect(measuredBusy * KIB).toBeLessThanOrEqual(PER_CONNECTION);
    expect(measuredIdle * KIB).toBeLessThanOrEqual(PER_CONNECTION);
    // The sizing table quotes those measurements.
    expect(sizingDoc).toContain(`${measuredIdle} KiB RSS at 10,000 clients`);
    expect(sizingDoc).toContain(`${measuredBusy} KiB RSS at 10,000 clients`);
  });

  test('the fit check rejects what issue 23 found: 100000 connections in 1Gi, and limits not in whole Mi/Gi', () => {
    expect(fitProblem(100_000, k8sBytes('1Gi'))).toMatch(/≥ limit 1024 MiB/);
    expect(fitProblem(80_000, k8sBytes('1G'))).toMatch(/whole Mi\/Gi/);
    expect(fitProblem(80_000, k8sBytes('1Gi'))).toBeUndefined();
    expect(composeBytes('512m')).toBe(512 * MIB);
  });
});
