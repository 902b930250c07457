import { MAX_SEQ, type EventsWrite, type RedisNames } from '@matomo-live/shared';

/** A stored seq at or above MAX_SEQ, or not digits, is corrupt: overwritten instead of followed (docs/POLLER.md, "Poisoned state"). */
export { MAX_SEQ };

/** Everything the publish script reads, by name; `publishScriptArgs` puts it in the script's order. */
export interface PublishScriptInput {
  /** The site's keys and channels (redisNames). */
  names: Pick<RedisNames, 'snapshotKey' | 'stateKey' | 'leaseKey' | 'eventsKey' | 'cursorKey' | 'snapshotChannel' | 'eventsChannel'>;
  siteId: number;
  digest: string;
  seq: number;
  bytes: Buffer;
  /** undefined = no fencing. */
  leaseOwner: string | undefined;
  publishCommand: 'PUBLISH' | 'SPUBLISH';
  /** The highest seq the poller saw stored. */
  knownSeq: number;
  /** undefined = no events part (the cursor is left alone). */
  events: EventsWrite | undefined;
  /** Without events: the cursor version to check (undefined = none). */
  cursorVersion?: number | undefined;
}

/**
 * KEYS of the script, in order (numberOfKeys = its length). The Lua reads
 * KEYS[i] at the position of its name here, 1-based.
 */
export const PUBLISH_KEYS = ['snapshotKey', 'stateKey', 'leaseKey', 'eventsKey', 'cursorKey'] as const;

/**
 * The fixed head of ARGV, in order (the Lua reads ARGV[i] at the 1-based
 * position of its name here). After it come the variable lists: n entries ×
 * (kind, data), n remembered × (idVisit, value), n forgotten × idVisit.
 */
export const PUBLISH_ARGV = [
  'digest',
  'seq',
  'bytes',
  'leaseOwner',
  'snapshotChannel',
  'publishCommand',
  'knownSeq',
  'eventsChannel',
  'expectedCursorVersion',
  'cursorAfter',
  'cursorOffset',
  'retentionMs',
  'maxLen',
  'siteId',
  'entryCount',
  'rememberedCount',
  'forgottenCount',
  'maxSeq',
  'cursorHistoryUntil',
  'heldCursorVersion',
] as const;

type ArgvName = (typeof PUBLISH_ARGV)[number];

/** The script's arguments: KEYS then ARGV, each in the order the Lua expects. */
export function publishScriptArgs(input: PublishScriptInput): { keys: string[]; argv: Array<string | Buffer> } {
  const { names, events } = input;
  const head: Record<ArgvName, string | Buffer> = {
    digest: input.digest,
    // Seqs travel as strings: Lua's numbers print 1.7e12 in exponent form.
    seq: String(input.seq),
    bytes: input.bytes,
    leaseOwner: input.leaseOwner ?? '',
    snapshotChannel: names.snapshotChannel,
    publishCommand: input.publishCommand,
    knownSeq: String(input.knownSeq),
    eventsChannel: names.eventsChannel,
    // "" tells the script there is no events part.
    expectedCursorVersion: events ? String(events.cursor.expectedVersion) : '',
    cursorAfter: String(events?.cursor.after ?? 0),
    cursorOffset: String(events?.cursor.offset ?? 0),
    retentionMs: String(events?.retentionMs ?? 0),
    maxLen: String(events?.maxLen ?? 0),
    siteId: String(input.siteId),
    entryCount: String(events?.entries.length ?? 0),
    rememberedCount: String(events?.cursor.set.length ?? 0),
    forgottenCount: String(events?.cursor.forget.length ?? 0),
    maxSeq: String(MAX_SEQ),
    // "0": no history mark (the usual case).
    cursorHistoryUntil: String(events?.cursor.historyUntil ?? 0),
    // "": no check (there are events, whose write checks the version itself, or no cursor is held).
    heldCursorVersion: events || input.cursorVersion === undefined ? '' : String(input.cursorVersion),
  };
  const tail = events
    ? [
        ...events.entries.flatMap((entry) => [entry.kind, entry.data]),
        ...events.cursor.set.flatMap(([id, value]) => [String(id), value]),
        ...events.cursor.forget.map(String),
      ]
    : [];
  return { keys: PUBLISH_KEYS.map((key) => names[key]), argv: [...PUBLISH_ARGV.map((name) => head[name]), ...tail] };
}
