import { bool, EnvError, makeValidator, str } from 'envalid';
import { isIP } from 'node:net';
import type { RawEnv } from './read-env';
import { redisUrl, splitCommaList } from './validators';

/** One node address of REDIS_SENTINELS or REDIS_CLUSTER_NODES. */
export interface RedisNodeAddress {
  host: string;
  port: number;
}

/** How the services reach Redis: exactly one of the three modes, with the credentials and TLS settings of that mode. */
export type RedisConnectionConfig =
  | {
      /** One Redis (REDIS_URL). Credentials and TLS come from the URL unless given apart. */
      mode: 'single';
      url: string;
      username: string | undefined;
      password: string | undefined;
    }
  | {
      /** Redis Sentinel (REDIS_SENTINELS): the sentinels are asked for the current master of `masterName`. */
      mode: 'sentinel';
      sentinels: RedisNodeAddress[];
      /** Default "mymaster". */
      masterName: string;
      username: string | undefined;
      password: string | undefined;
      /** Password of the sentinels themselves (their `requirepass`); undefined = none. */
      sentinelPassword: string | undefined;
      /** TLS to the data nodes and the sentinels. Default false. */
      tls: boolean;
    }
  | {
      /** Redis Cluster (REDIS_CLUSTER_NODES): seed nodes; the client learns the rest. */
      mode: 'cluster';
      nodes: RedisNodeAddress[];
      username: string | undefined;
      password: string | undefined;
      /** TLS to every node. Default false. */
      tls: boolean;
    };

export type RedisMode = RedisConnectionConfig['mode'];

/** "host:port, host, [::1]:26379" → addresses; entries without a port get `defaultPort`. */
export function nodeAddressList(defaultPort: number) {
  return makeValidator<RedisNodeAddress[]>((input) => {
    const parts = splitCommaList(input);
    if (parts.length === 0) throw new EnvError('must list at least one host:port');
    return parts.map((part) => parseNodeAddress(part, defaultPort));
  });
}

function parseNodeAddress(part: string, defaultPort: number): RedisNodeAddress {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(part);
  let host: string;
  let portText: string | undefined;
  if (bracketed) {
    [, host = '', portText] = bracketed;
    if (isIP(host) !== 6) throw new EnvError(`"${part}": only IPv6 addresses go in brackets`);
  } else if (isIP(part) === 6) {
    throw new EnvError(`"${part}": put an IPv6 address in brackets, e.g. [${part}]:${defaultPort}`);
  } else {
    const colon = part.lastIndexOf(':');
    host = colon < 0 ? part : part.slice(0, colon);
    portText = colon < 0 ? undefined : part.slice(colon + 1);
  }
  if (host === '' || /[\s/@]/.test(host)) throw new EnvError(`"${part}" is not a host:port (e.g. redis-1:${defaultPort})`);
  if (portText === undefined) return { host, port: defaultPort };
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535) throw new EnvError(`"${part}": the port must be a number from 1 to 65535`);
  return { host, port };
}

/** A key prefix that cannot break the `{…}` hash tag every key and channel is built around (shared/src/redis-names.ts). */
export const redisPrefix = makeValidator<string>((input) => {
  if (/[{}]/.test(input)) throw new EnvError('must not contain "{" or "}": matomo-live puts the prefix inside a Redis Cluster hash tag');
  return input;
});

/** The Redis variables both services read (part of commonEnvSpec; each `desc` is docs/CONFIGURATION.md's text). */
export const redisEnvSpec = {
  REDIS_URL: redisUrl({
    default: undefined,
    desc: 'one Redis: connection URL (`redis://` or `rediss://` for TLS). Give exactly one of `REDIS_URL`, `REDIS_SENTINELS`, `REDIS_CLUSTER_NODES`; none only in the single-process mode (`npm start`). A service started before Redis runs and reports not ready until it connects',
    example: 'redis://redis:6379',
  }),
  REDIS_SENTINELS: nodeAddressList(26379)({
    default: undefined,
    desc: 'Redis Sentinel: the sentinels, `host:port` comma separated (port default 26379); the services ask them for the current master (docs/OPERATIONS.md, "Redis HA")',
    example: 'sentinel-1:26379,sentinel-2:26379,sentinel-3:26379',
  }),
  REDIS_SENTINEL_MASTER: str({ default: 'mymaster', desc: 'with `REDIS_SENTINELS`: the master set name the sentinels monitor' }),
  REDIS_CLUSTER_NODES: nodeAddressList(6379)({
    default: undefined,
    desc: 'Redis Cluster (Redis 7+, sharded pub/sub): seed nodes, `host:port` comma separated (port default 6379); the rest of the cluster is discovered',
    example: 'redis-0:6379,redis-1:6379,redis-2:6379',
  }),
  REDIS_USERNAME: str({
    default: undefined,
    desc: 'ACL user name for the Redis data nodes; unset: `default` (with `REDIS_URL` it may be in the URL instead)',
  }),
  REDIS_PASSWORD: str({ default: undefined, desc: 'password of the Redis data nodes (with `REDIS_URL` it may be in the URL instead)' }),
  REDIS_SENTINEL_PASSWORD: str({
    default: undefined,
    desc: 'with `REDIS_SENTINELS`: password of the sentinels themselves (their `requirepass`), if any',
  }),
  REDIS_TLS: bool({
    default: false,
    desc: 'TLS to every Redis node (and to the sentinels) with `REDIS_SENTINELS` or `REDIS_CLUSTER_NODES`; with `REDIS_URL` use `rediss://`',
  }),
  REDIS_PREFIX: redisPrefix({
    default: 'matomo-live:',
    desc: 'prefix of every Redis key and channel (inside the `{…}` hash tag of each site); the poller and its gateways must agree',
  }),
};

/** The Redis variables after envalid validated them one by one. */
export interface RedisEnv {
  REDIS_URL?: string | undefined;
  REDIS_SENTINELS?: RedisNodeAddress[] | undefined;
  REDIS_SENTINEL_MASTER: string;
  REDIS_CLUSTER_NODES?: RedisNodeAddress[] | undefined;
  REDIS_USERNAME?: string | undefined;
  REDIS_PASSWORD?: string | undefined;
  REDIS_SENTINEL_PASSWORD?: string | undefined;
  REDIS_TLS: boolean;
}

const MODE_VARIABLES = ['REDIS_URL', 'REDIS_SENTINELS', 'REDIS_CLUSTER_NODES'] as const;

/**
 * The combinations envalid cannot see, checked on the raw values so they are
 * reported together with every other bad variable: exactly one mode (or none
 * where allowed), and no setting that the chosen mode would ignore. One line
 * per variable.
 */
export function redisCombinationErrors(raw: RawEnv, required: boolean): string[] {
  const set = (name: string) => (raw[name] ?? '').trim() !== '';
  const modes = MODE_VARIABLES.filter(set);
  const errors: string[] = [];
  if (modes.length === 0) {
    if (required) {
      errors.push(
        'REDIS_URL: required but not set (e.g. redis://redis:6379) — or REDIS_SENTINELS (Sentinel) or REDIS_CLUSTER_NODES (Cluster); or run `npm start` for the single-process mode',
      );
    }
    for (const name of ['REDIS_SENTINEL_MASTER', 'REDIS_USERNAME', 'REDIS_PASSWORD', 'REDIS_SENTINEL_PASSWORD', 'REDIS_TLS']) {
      if (set(name)) errors.push(`${name}: set, but no Redis is configured (REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES)`);
    }
    return errors;
  }
  if (modes.length > 1) {
    for (const name of modes) {
      errors.push(`${name}: set together with ${modes.filter((m) => m !== name).join(' and ')}; give exactly one Redis mode`);
    }
    return errors;
  }
  const mode = modes[0]!;
  if (mode !== 'REDIS_SENTINELS') {
    for (const name of ['REDIS_SENTINEL_MASTER', 'REDIS_SENTINEL_PASSWORD']) {
      if (set(name)) errors.push(`${name}: only used with REDIS_SENTINELS, but ${mode} is set`);
    }
  }
  if (mode === 'REDIS_URL') {
    const url = safeUrl(raw.REDIS_URL);
    if (set('REDIS_TLS')) errors.push('REDIS_TLS: not used with REDIS_URL; write rediss:// in the URL for TLS');
    if (url !== undefined && url.password !== '' && set('REDIS_PASSWORD')) {
      errors.push('REDIS_PASSWORD: REDIS_URL holds a password already; give it in one place');
    }
    if (url !== undefined && url.username !== '' && set('REDIS_USERNAME')) {
      errors.push('REDIS_USERNAME: REDIS_URL holds a user name already; give it in one place');
    }
  }
  return errors;
}

function safeUrl(text: string | undefined): URL | undefined {
  try {
    return new URL((text ?? '').trim());
  } catch {
    return undefined; // the validator reports it (without echoing it)
  }
}

/** The connection settings, or undefined when no mode is set (the single-process mode's in-memory bus). Call after redisCombinationErrors found nothing. */
export function redisConnectionConfig(e: RedisEnv): RedisConnectionConfig | undefined {
  const credentials = { username: e.REDIS_USERNAME, password: e.REDIS_PASSWORD };
  if (e.REDIS_URL !== undefined) return { mode: 'single', url: e.REDIS_URL, ...credentials };
  if (e.REDIS_SENTINELS !== undefined) {
    return {
      mode: 'sentinel',
      sentinels: e.REDIS_SENTINELS,
      masterName: e.REDIS_SENTINEL_MASTER,
      sentinelPassword: e.REDIS_SENTINEL_PASSWORD,
      tls: e.REDIS_TLS,
      ...credentials,
    };
  }
  if (e.REDIS_CLUSTER_NODES !== undefined) return { mode: 'cluster', nodes: e.REDIS_CLUSTER_NODES, tls: e.REDIS_TLS, ...credentials };
  return undefined;
}

/** A one-line description for logs, without credentials: "sentinel mymaster via s1:26379,s2:26379". */
export function describeRedis(config: RedisConnectionConfig | undefined): string {
  if (config === undefined) return 'none (in memory)';
  const list = (nodes: RedisNodeAddress[]) => nodes.map((n) => `${n.host.includes(':') ? `[${n.host}]` : n.host}:${n.port}`).join(',');
  switch (config.mode) {
    case 'single': {
      const url = new URL(config.url);
      return `single ${url.protocol}//${url.host}${url.pathname === '/' ? '' : url.pathname}`;
    }
    case 'sentinel':
      return `sentinel ${config.masterName} via ${list(config.sentinels)}${config.tls ? ' (tls)' : ''}`;
    case 'cluster':
      return `cluster via ${list(config.nodes)}${config.tls ? ' (tls)' : ''}`;
  }
}
