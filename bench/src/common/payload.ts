/**
 * The benchmark's message: a realistic snapshot (shared/src/snapshot-codec.ts format)
 * padded to a fixed size, carrying the publisher's send time so any receiver
 * can compute publish→receive latency without parsing the JSON.
 */
import type { LiveVisit, SnapshotContent } from '@matomo-live/protocol';
import { encodeSnapshot } from '@matomo-live/shared';

/** Extra top-level key holding the send time (monotonic ms, see monotonicMs()). Old clients ignore unknown keys. */
export const SENT_AT_FIELD = 'bench_sent_at';

/** Default message size, bytes (the "2 KB snapshots"). */
export const DEFAULT_PAYLOAD_BYTES = 2048;

/**
 * CLOCK_MONOTONIC in ms with µs precision. It is one clock for every process
 * on the machine, so a send time taken in the publisher compares directly
 * with a receive time taken in a load-generator process.
 */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** A realistic visit, varied by `i`. */
export function benchVisit(i: number): LiveVisit {
  return {
    latitude: 48.8566 + i / 100,
    longitude: 2.3522 + i / 100,
    city: ['Paris', 'Lyon', 'Berlin', 'Madrid', 'Lisbon'][i % 5] as string,
    countryCode: ['fr', 'fr', 'de', 'es', 'pt'][i % 5] as string,
    country: ['France', 'France', 'Germany', 'Spain', 'Portugal'][i % 5] as string,
    actions: 3 + i,
    visitIp: '',
    operatingSystem: 'Windows 10',
    browserName: 'Chrome 126.0',
    source: i % 2 === 0 ? '' : 'Google',
    lastActionDateTime: '2024-07-04 18:43:37',
    lastActionUtc: '2024-07-04T16:43:37Z',
  };
}

/** A realistic day's totals. */
export function benchDay(date: string, visits: number): SnapshotContent['summary']['today'] {
  return {
    visits,
    time_spent: '12:34:56',
    date,
    time_spent_seconds: 45296,
    actions: visits * 3,
    unique_visitors: visits - 7,
    bounce_count: 40,
  };
}

/** The content every benchmark message shares (4 live visits, ~1.8 KB); `padding` goes into the last visit's `source`. */
function content(padding: string): SnapshotContent {
  const visits = [0, 1, 2, 3].map(benchVisit);
  (visits[3] as LiveVisit).source = `Google${padding}`;
  return {
    visits_live: visits,
    summary: { today: benchDay('2024-07-04', 512), yesterday: benchDay('2024-07-03', 1024), day_before: benchDay('2024-07-02', 998) },
    counters: { minutes: 30, visits: 17, actions: 52, visitors: 15, visits_converted: 1 },
    site: 1,
    timezone: 'Europe/Paris',
  };
}

/** The send time as written into messages: fixed width, so every message has the same size. */
function formatSentAt(sentAtMs: number): string {
  return sentAtMs.toFixed(3).padStart(16, '0');
}

/** Builds messages of exactly `bytes` bytes: the same content each time, a new seq and send time. */
export class PayloadFactory {
  private readonly padding: string;

  constructor(
    readonly bytes = DEFAULT_PAYLOAD_BYTES,
    private readonly siteId = 1,
  ) {
    const unpadded = this.encode('', 10_000_000_000_000, 0).length;
    if (bytes < unpadded) throw new RangeError(`payloads cannot be smaller than ${unpadded} bytes`);
    this.padding = '.'.repeat(bytes - unpadded);
  }

  /** The snapshot bytes for `seq`, sent at `sentAtMs` (monotonic ms). */
  message(seq: number, sentAtMs: number): Buffer {
    return this.encode(this.padding, seq, sentAtMs);
  }

  /** The same message as an object (what a Socket.IO publisher emits). */
  object(seq: number, sentAtMs: number): Record<string, unknown> {
    return JSON.parse(this.message(seq, sentAtMs).toString('utf8')) as Record<string, unknown>;
  }

  private encode(padding: string, seq: number, sentAtMs: number): Buffer {
    // A 14-digit seq (clock ms × 10) keeps the size independent of the seq (seqs are clock-ms based).
    const withSentAt = { ...content(padding), site: this.siteId, [SENT_AT_FIELD]: formatSentAt(sentAtMs) };
    return encodeSnapshot(withSentAt, seq, new Date(1_720_111_417_000));
  }
}

const FIELD_MARKERS = new Map<string, Buffer>();

/**
 * The number after `"name":` (optionally quoted) in a JSON text, or NaN.
 * A byte search, not JSON.parse: load generators read 10⁵ messages/s and must
 * not become the bottleneck they measure. Socket.IO frames (`42["snapshot",{...}]`)
 * work too. The last occurrence wins, so visit fields cannot shadow top-level ones
 * that the encoder writes last (seq, updated_at).
 */
export function numberField(message: Buffer, name: string): number {
  let marker = FIELD_MARKERS.get(name);
  if (!marker) {
    marker = Buffer.from(`"${name}":`);
    FIELD_MARKERS.set(name, marker);
  }
  const at = message.lastIndexOf(marker);
  if (at < 0) return Number.NaN;
  let i = at + marker.length;
  if (message[i] === 0x22) i++; // opening quote
  let end = i;
  while (end < message.length) {
    const c = message[end] as number;
    if ((c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x2d) end++;
    else break;
  }
  return end > i ? Number(message.toString('latin1', i, end)) : Number.NaN;
}
