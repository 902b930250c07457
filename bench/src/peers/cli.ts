/** The shared command-line wrapper of the peer servers: REDIS_URL check, start, log the port, stop on signals. */
import Redis from 'ioredis';
import { redisNames, type RedisNames } from '@matomo-live/shared';
import type { RunningPeer } from './ws-broadcast-server';

export interface PeerCliEnv {
  /** PORT; default 0 (any free one). */
  port: number;
  /** Site 1's snapshot key and channel under REDIS_PREFIX (default "matomo-live:"), as the gateway names them. */
  names: Pick<RedisNames, 'snapshotKey' | 'snapshotChannel'>;
  /** A new connection to REDIS_URL. */
  connect(): Redis;
}

export function runPeerCli(name: string, start: (env: PeerCliEnv) => Promise<RunningPeer>): void {
  const redisUrl = process.env.REDIS_URL;
  if (!redisUrl) {
    console.error('REDIS_URL: required');
    process.exit(78);
  }
  const env: PeerCliEnv = {
    port: Number(process.env.PORT ?? 0),
    names: redisNames(process.env.REDIS_PREFIX ?? 'matomo-live:', 1),
    connect: () => new Redis(redisUrl),
  };
  start(env).then(
    (peer) => {
      console.log(`${name} listening on ${peer.port}`);
      const shutdown = (): void => void peer.close().then(() => process.exit(0));
      process.once('SIGTERM', shutdown);
      process.once('SIGINT', shutdown);
    },
    (error: Error) => {
      console.error(`${name}: ${error.message}`);
      process.exit(1);
    },
  );
}
