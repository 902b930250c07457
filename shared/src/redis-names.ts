/**
 * Every Redis key and channel matomo-live uses, in one place. With the
 * default prefix "matomo-live:" and site 1:
 *
 * | name                                    | type    | written by | what                                           |
 * |-----------------------------------------|---------|------------|------------------------------------------------|
 * | {matomo-live:site:1}:snapshot           | string  | poller     | the latest snapshot, the exact published bytes |
 * | {matomo-live:site:1}:snapshot (channel) | pub/sub | poller     | one message per change, same bytes as the key; SPUBLISH (sharded) in Cluster mode, PUBLISH otherwise |
 * | {matomo-live:site:1}:state              | hash    | poller     | `digest` and `seq` of the stored snapshot      |
 * | {matomo-live:site:1}:lease              | string  | poller     | leadership lease (owner id, PX expiry)         |
 * | {matomo-live:site:1}:events             | stream  | poller     | visit events (fields `prev`, `kind`, `data`), trimmed to EVENTS_RETENTION / EVENTS_MAXLEN |
 * | {matomo-live:site:1}:events (channel)   | pub/sub | poller     | one message per tick with events: their ids, `prev` ids and data; gateways subscribe only while a client wants events |
 * | {matomo-live:site:1}:cursor             | hash    | poller     | the incremental fetch's cursor (`after`, `offset`, `version`) and `v:<idVisit>` → `<actions>:<last action s>` of recent visits |
 * | {matomo-live:site:1}:heartbeat          | string  | poller     | the latest heartbeat (shared/src/site-heartbeat.ts), expiring after the stale threshold |
 * | {matomo-live:site:1}:heartbeat (channel)| pub/sub | poller     | the leading poller's heartbeat every few seconds, changed or not: how fresh the data is, what keeps it from being fresh |
 *
 * Everything of one site shares the hash tag `{<prefix>site:<id>}`, in every
 * mode: in a Redis Cluster it all lives in one slot, so the publish script
 * (lease check, digest compare, SET, HSET, PUBLISH/SPUBLISH) runs on one node,
 * and different sites spread over the slots. A new per-site key must be
 * named `${tag}:<name>` so it can join the same script (the visit events,
 * their cursor and the snapshot are written by one script). Version 0.1.0 used untagged names (`matomo-live:site:1:snapshot`):
 * pollers and gateways of 0.1.0 and later versions do not see each other
 * (CHANGELOG, upgrade note).
 */
export interface RedisNames {
  /** `{<prefix>site:<id>}`: the hash tag of every key and channel of the site. */
  tag: string;
  snapshotKey: string;
  snapshotChannel: string;
  stateKey: string;
  leaseKey: string;
  /** Stream of visit events. */
  eventsKey: string;
  /** Pub/sub channel announcing new events (a different namespace from keys: the same name is fine). */
  eventsChannel: string;
  /** Hash of the incremental fetch's cursor, written with the events. */
  cursorKey: string;
  /** The latest heartbeat, with a TTL: a gateway that starts reads it instead of waiting for the next one. */
  heartbeatKey: string;
  /** Pub/sub channel of the leading poller's heartbeats (SPUBLISH in Cluster mode, like the snapshots). */
  heartbeatChannel: string;
}

export function redisNames(prefix: string, siteId: number): RedisNames {
  const tag = `{${prefix}site:${siteId}}`;
  return {
    tag,
    snapshotKey: `${tag}:snapshot`,
    snapshotChannel: `${tag}:snapshot`,
    stateKey: `${tag}:state`,
    leaseKey: `${tag}:lease`,
    eventsKey: `${tag}:events`,
    eventsChannel: `${tag}:events`,
    cursorKey: `${tag}:cursor`,
    heartbeatKey: `${tag}:heartbeat`,
    heartbeatChannel: `${tag}:heartbeat`,
  };
}

/** The site id a snapshot channel belongs to, or undefined for another channel. */
export function siteIdOfChannel(prefix: string, channel: string): number | undefined {
  return siteIdOf(prefix, channel, '}:snapshot');
}

/** The site id a heartbeat channel belongs to, or undefined for another channel. */
export function siteIdOfHeartbeatChannel(prefix: string, channel: string): number | undefined {
  return siteIdOf(prefix, channel, '}:heartbeat');
}

/** The site id an events channel belongs to, or undefined for another channel. */
export function siteIdOfEventsChannel(prefix: string, channel: string): number | undefined {
  return siteIdOf(prefix, channel, '}:events');
}

function siteIdOf(prefix: string, channel: string, tail: string): number | undefined {
  const head = `{${prefix}site:`;
  if (!channel.startsWith(head) || !channel.endsWith(tail)) return undefined;
  const digits = channel.slice(head.length, -tail.length);
  const id = /^\d+$/.test(digits) ? Number(digits) : NaN;
  return Number.isSafeInteger(id) && id > 0 ? id : undefined;
}

/** A KEYS/SCAN pattern matching every key of every site under `prefix` (cleanup, inspection). */
export function redisKeyPattern(prefix: string): string {
  // Glob-special characters in the prefix are escaped; braces are literal in Redis patterns.
  return `{${prefix.replace(/[*?[\]\\]/g, '\\$&')}site:*`;
}
