/**
 * Load generators in separate processes (so their CPU is measured apart from
 * the server's), each holding a share of the clients.
 */
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LatencyHistogram } from './histogram';
import type { SwarmOptions, SwarmReport } from './load-generator';
import type { LoadGeneratorRequest } from './load-generator-main';
import { monotonicMs } from './payload';
import { startProcess, type StartedProcess } from '../processes';

/** A request without its id (each member of the union on its own). */
export type RequestBody<R> = R extends { id: number } ? Omit<R, 'id'> : never;

/** A child process answering `{id, …}` requests over IPC with `{id, result}` or `{id, error}`. */
export class IpcChild<Request extends { id: number } = LoadGeneratorRequest> {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  constructor(readonly process: StartedProcess) {
    process.child.on('message', (answer: { id: number; result?: unknown; error?: string }) => {
      const waiter = this.pending.get(answer.id);
      this.pending.delete(answer.id);
      if (answer.error !== undefined) waiter?.reject(new Error(answer.error));
      else waiter?.resolve(answer.result);
    });
    process.child.once('exit', (code) => {
      for (const waiter of this.pending.values()) waiter.reject(new Error(`load generator exited with ${code}: ${process.output()}`));
      this.pending.clear();
    });
  }

  request<T>(body: RequestBody<Request>): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.process.child.send({ ...body, id });
    });
  }
}

export interface PoolReport extends Omit<SwarmReport, 'latency' | 'firstLatencyBySeq'> {
  latency: LatencyHistogram;
  /** Latency of the first client (of all processes) to receive each seq. */
  firstLatency: LatencyHistogram;
}

export class LoadGeneratorPool {
  private readonly generators: IpcChild[];

  /** `processes` load-generator processes (default 2). */
  constructor(processes = 2) {
    const main = join(__dirname, 'load-generator-main.js');
    this.generators = Array.from(
      { length: processes },
      () => new IpcChild(startProcess(process.execPath, [main], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] })),
    );
  }

  get pids(): number[] {
    return this.generators.map((g) => g.process.pid);
  }

  /** Splits `options.count` clients over the processes and connects them all. */
  async connect(options: SwarmOptions): Promise<{ connected: number; failed: number; errors: string[] }> {
    const n = this.generators.length;
    const answers = await Promise.all(
      this.generators.map((g, i) =>
        g.request<{ connected: number; failed: number; errors: string[] }>({
          op: 'connect',
          options: { ...options, count: Math.floor(options.count / n) + (i < options.count % n ? 1 : 0) },
        }),
      ),
    );
    return {
      connected: answers.reduce((s, a) => s + a.connected, 0),
      failed: answers.reduce((s, a) => s + a.failed, 0),
      errors: answers.flatMap((a) => a.errors).slice(0, 5),
    };
  }

  async startMeasuring(fromSeq: number): Promise<void> {
    await Promise.all(this.generators.map((g) => g.request({ op: 'measure', fromSeq })));
  }

  async report(): Promise<PoolReport> {
    const reports = await Promise.all(this.generators.map((g) => g.request<SwarmReport>({ op: 'report' })));
    const latency = new LatencyHistogram();
    const closes: Record<string, number> = {};
    const firstBySeq = new Map<string, number>();
    for (const r of reports) {
      for (const [seq, ms] of Object.entries(r.firstLatencyBySeq)) firstBySeq.set(seq, Math.min(ms, firstBySeq.get(seq) ?? ms));
      latency.merge(r.latency);
      for (const [code, count] of Object.entries(r.closes)) closes[code] = (closes[code] ?? 0) + count;
    }
    const finite = (values: number[], pick: (...v: number[]) => number): number => {
      const ok = values.filter((v) => v !== null && !Number.isNaN(v));
      return ok.length ? pick(...ok) : Number.NaN;
    };
    const firstLatency = new LatencyHistogram();
    for (const ms of firstBySeq.values()) firstLatency.record(ms);
    return {
      firstLatency,
      open: reports.reduce((s, r) => s + r.open, 0),
      delivered: reports.reduce((s, r) => s + r.delivered, 0),
      duplicates: reports.reduce((s, r) => s + r.duplicates, 0),
      perClientMin: Math.min(...reports.map((r) => r.perClientMin)),
      perClientMax: Math.max(...reports.map((r) => r.perClientMax)),
      firstReceiptAt: finite(
        reports.map((r) => r.firstReceiptAt),
        Math.min,
      ),
      lastReceiptAt: finite(
        reports.map((r) => r.lastReceiptAt),
        Math.max,
      ),
      latency,
      closes,
    };
  }

  /** Reports every 100 ms until `expected` deliveries or until `drainMs` have passed; the last report. */
  async drain(expected: number, drainMs: number): Promise<PoolReport> {
    const deadline = monotonicMs() + drainMs;
    let report = await this.report();
    while (report.delivered < expected && monotonicMs() < deadline) {
      await sleep(100);
      report = await this.report();
    }
    return report;
  }

  /** Closes the clients, then ends the processes. */
  async close(): Promise<void> {
    await Promise.allSettled(this.generators.map((g) => g.request({ op: 'close' })));
    await Promise.all(this.generators.map((g) => g.process.stop()));
  }
}

/**
 * A run's measuring window, ms: from `startedAt` (monotonicMs) to the last
 * receipt (now when nothing arrived), and at least the nominal publishing
 * time, so a run that keeps up delivers exactly the offered rate.
 */
export function deliveryWindowMs(report: PoolReport, startedAt: number, nominalMs: number): number {
  const lastReceipt = Number.isNaN(report.lastReceiptAt) ? monotonicMs() : report.lastReceiptAt;
  return Math.max(lastReceipt - startedAt, nominalMs);
}
