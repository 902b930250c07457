/** The shared command-line wrapper of the peer servers: REDIS_URL check, start, log the port, stop on signals. */
import Redis from 'ioredis';
import type { RunningPeer } from './ws-broadcast-server';

export interface PeerCliEnv {
  /** PORT; default 0 (any free one). */
  port: number;
  /** CHANNEL: the snapshot channel and cached key; default matomo-live:site:1:snapshot. */
  channel: string;
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
    channel: process.env.CHANNEL ?? 'matomo-live:site:1:snapshot',
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
