/** Short-lived probes of Redis nodes that may be down on purpose, and the replication state they report. */
import Redis from 'ioredis';
import type { RedisProcess } from './redis-server';

/** One command on a short-lived connection that never retries (probes of nodes that may be down). */
export async function probe(port: number, args: Array<string | number>, password?: string): Promise<unknown> {
  const client = new Redis({
    host: '127.0.0.1',
    port,
    password,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
    connectTimeout: 1000,
    protocol: 2,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await client.call(String(args[0]), ...args.slice(1).map(String));
  } finally {
    client.disconnect();
  }
}

/** INFO <section> as a map. */
export async function info(port: number, section: string, password?: string): Promise<Record<string, string>> {
  const text = (await probe(port, ['INFO', section], password)) as string;
  const out: Record<string, string> = {};
  for (const line of text.split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

/** True when every live replica among `procs` has its link up and its master's replication offset. */
export async function replicasInSync(procs: RedisProcess[], password?: string): Promise<boolean> {
  const infos = await Promise.all(procs.filter((p) => p.alive()).map(async (p) => ({ p, i: await info(p.port, 'replication', password) })));
  for (const { i } of infos) {
    if (i.role !== 'slave') continue;
    if (i.master_link_status !== 'up') return false;
    const master = infos.find(({ p }) => p.port === Number(i.master_port));
    if (master && master.i.master_repl_offset !== i.slave_repl_offset) return false;
  }
  return true;
}
