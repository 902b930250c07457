/**
 * Every Redis key and channel matomo-live uses, in one place. With the
 * default prefix "matomo-live:" and site 1:
 *
 * | name                                  | type    | written by | what                                           |
 * |---------------------------------------|---------|------------|------------------------------------------------|
 * | matomo-live:site:1:snapshot           | string  | poller     | the latest snapshot, the exact published bytes |
 * | matomo-live:site:1:snapshot (channel) | pub/sub | poller     | one message per change, same bytes as the key  |
 * | matomo-live:site:1:state              | hash    | poller     | `digest` and `seq` of the stored snapshot      |
 * | matomo-live:site:1:lease              | string  | poller     | leadership lease (owner id, PX expiry)         |
 */
export interface RedisNames {
  snapshotKey: string;
  snapshotChannel: string;
  stateKey: string;
  leaseKey: string;
}

export function redisNames(prefix: string, siteId: number): RedisNames {
  const base = `${prefix}site:${siteId}:`;
  return {
    snapshotKey: `${base}snapshot`,
    snapshotChannel: `${base}snapshot`,
    stateKey: `${base}state`,
    leaseKey: `${base}lease`,
  };
}

/** The site id a snapshot channel belongs to, or undefined for another channel. */
export function siteIdOfChannel(prefix: string, channel: string): number | undefined {
  if (!channel.startsWith(`${prefix}site:`) || !channel.endsWith(':snapshot')) return undefined;
  const id = Number(channel.slice(prefix.length + 'site:'.length, -':snapshot'.length));
  return Number.isSafeInteger(id) && id > 0 ? id : undefined;
}
