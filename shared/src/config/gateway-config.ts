import { bool, str } from 'envalid';
import { readFileSync } from 'node:fs';
import { cleanOrThrow, cleanOrThrowWith } from './clean';
import { commonEnvSpec, configuredSiteIds, type LoadConfigOptions } from './common-env';
import { ConfigError } from './config-error';
import { readEnv, type RawEnv } from './read-env';
import { jwtKeyErrors, tokenFilesOf, tokenSettingsOf, type TokenFiles, type TokenSettings } from './token-settings';
import { redisCombinationErrors, redisConnectionConfig, type RedisConnectionConfig } from './redis-env';
import { demoRequested, demoTokenError, shortTokenWarning } from './token-hygiene';
import { durationSeconds, intIn, milliseconds, siteIdList, splitCommaList, type LogLevel } from './validators';

export { jwksJson, jwksUrl, originList, parseJwks, proxyList, tokenList } from './gateway-validators';
import { jwksJson, jwksUrl, originList, proxyList, tokenList } from './gateway-validators';

const MIB = 1024 * 1024;

/** Environment variables the gateway reads (each `desc` is docs/CONFIGURATION.md's text; also checked against compose and Kubernetes). */
export const gatewayEnvSpec = {
  ...commonEnvSpec,
  PORT: intIn(0, 65535)({ default: 8080, desc: 'HTTP and WebSocket port; `0` picks a free one' }),
  HOST: str({ default: undefined, desc: 'listen address; unset: all interfaces' }),
  MATOMO_SITE_ID: intIn(1, Number.MAX_SAFE_INTEGER)({ default: 1, desc: 'site served (the default of `?site=`)' }),
  MATOMO_SITE_IDS: siteIdList({
    default: undefined,
    desc: 'several sites served, e.g. `1,2,3`; the first is the default of `?site=`, other sites get close 4004',
  }),
  VALID_TOKENS: tokenList({
    default: undefined,
    desc: 'static client tokens, comma separated, entries trimmed (as the reference); `token@1` or `token@1|3` may see only those sites (else close 4003), a bare `token` every site',
  }),
  JWT_SECRET: str({ default: undefined, desc: 'HS256 secret (at least 32 bytes) of signed client tokens' }),
  JWT_PUBLIC_KEY: str({ default: undefined, desc: 'PEM public key (`RS*`, `PS*`, `ES*` or `EdDSA`) of signed client tokens' }),
  JWT_JWKS: jwksJson({ default: undefined, desc: 'JWKS JSON document (`{"keys":[…]}`) of signed client tokens' }),
  JWT_JWKS_URL: jwksUrl({
    default: undefined,
    desc: "URL of the identity provider's JWKS (https; http only to loopback), fetched at start (unreachable: the gateway exits), cached by `Cache-Control: max-age` (1 min … 24 h) and fetched again on an unknown `kid` (at most every 5 s); not with `JWT_JWKS`",
  }),
  JWT_ISSUER: str({ default: undefined, desc: 'required `iss` of signed tokens; unset: not checked' }),
  JWT_AUDIENCE: str({ default: undefined, desc: 'required `aud` of signed tokens; unset: not checked' }),
  JWT_MAX_TTL: durationSeconds(
    1,
    10 * 365 * 86_400,
  )({
    default: undefined,
    desc: 'longest lifetime a signed token may have left: seconds or a duration (`15m`, `12h`, `7d`); a token whose `exp` is further away is refused (4001); unset: no limit',
  }),
  JWT_SITES_CLAIM: str({
    default: 'sites',
    desc: 'claim listing the sites a signed token may see: `[1,2]`, `"1,2"` or `"*"`; missing: no site',
  }),
  SSL_KEY: str({
    default: undefined,
    desc: 'TLS private key, a file path (as the reference) or PEM text; with `SSL_CERT` the gateway serves https and wss',
  }),
  SSL_CERT: str({
    default: undefined,
    desc: "TLS certificate chain, a file path or PEM text (`SSL_CERT_FILE` is ignored: it is OpenSSL's CA-bundle variable)",
  }),
  ALLOWED_ORIGINS: originList({
    default: undefined,
    desc: 'browser `Origin`s allowed, comma separated; unset: any (requests without `Origin` are always allowed)',
  }),
  TRUST_PROXY: proxyList({
    default: undefined,
    desc: 'proxies whose `X-Forwarded-For` is believed: addresses, CIDR ranges, `loopback` or host names (e.g. `nginx`, resolved at start and every 5 s); unset: none',
  }),
  MAX_CONNECTIONS: intIn(1, 10_000_000)({ default: 100_000, desc: 'open WebSocket connections per process; beyond: close 1013' }),
  MAX_CONNECTIONS_PER_TOKEN: intIn(1, 10_000_000)({ default: 10_000, desc: 'open connections per token per process; beyond: close 1013' }),
  CONNECT_RATE_PER_IP: intIn(1, 10_000_000)({ default: 6000, desc: 'connection attempts per client IP per minute; beyond: close 1013' }),
  FAILED_AUTH_PER_IP: intIn(
    1,
    10_000_000,
  )({
    default: 30,
    desc: 'wrong tokens a client address (IPv6: its /64) may try per minute, WebSocket upgrades and `/debug` together; beyond, that address is refused with HTTP 429 and `Retry-After` until its minute ends, valid tokens included. Many screens behind one NAT (an office): raise it',
  }),
  ACCEPT_RATE: intIn(
    1,
    10_000_000,
  )({
    default: 2000,
    desc: 'new WebSocket connections per second per process (bursts of as many); beyond: close 1013 with a reconnect hint that spreads the excess over the next seconds',
  }),
  REBALANCE: bool({
    default: true,
    desc: 'share connection counts with the other gateways through Redis and move clients from a gateway above its fair share to emptier ones (after a scale-out or a restart); needs Redis',
  }),
  REBALANCE_MARGIN: intIn(
    1,
    100,
  )({
    default: 10,
    desc: 'percent above the fair share (connections ÷ gateways) a gateway may hold before it moves clients; it stops within it (at most half of it above)',
  }),
  REBALANCE_MIN_EXCESS: intIn(
    0,
    1_000_000,
  )({
    default: 5,
    desc: 'connections above the fair share a gateway may always hold, whatever REBALANCE_MARGIN says, so that small fleets (2 vs 1, 4 vs 3 screens) are left alone; 0 = the margin alone',
  }),
  REBALANCE_RATE: intIn(
    1,
    100,
  )({
    default: 3,
    desc: "percent of a gateway's connections moved per second at most while rebalancing (each closed with 1001 and a reconnect hint)",
  }),
  MAX_PAYLOAD: intIn(64, 16 * MIB)({ default: 4096, desc: 'largest client frame, bytes; beyond: close 1009' }),
  CLIENT_MESSAGE_RATE: intIn(1, 100_000)({ default: 10, desc: 'client messages per second (bursts of twice that); beyond: close 1008' }),
  HEARTBEAT_INTERVAL: milliseconds(
    1000,
    600_000,
  )({
    default: 25_000,
    desc: "WebSocket ping interval, ms (below NGINX's 60 s `proxy_read_timeout`); a peer silent for two intervals is dropped",
  }),
  DRAIN_WINDOW: milliseconds(
    0,
    10_000,
  )({ default: 5000, desc: 'on SIGTERM, clients are closed with 1001 spread over this many ms (at most 10000)' }),
  SEND_BUFFER_LIMIT: intIn(1024, 1024 * MIB)({ default: MIB, desc: 'bytes a client may fall behind before close 4005' }),
  PER_MESSAGE_DEFLATE: bool({ default: false, desc: 'offer permessage-deflate (CPU and memory per client)' }),
  BROADCAST_FAST_PATH: bool({
    default: true,
    desc: 'frame each broadcast once and write that frame to every socket (ws internals, checked at start-up); `false`: `ws.send` per client, slower',
  }),
  REDIS_SEQ_CHECK_INTERVAL: milliseconds(
    0,
    600_000,
  )({
    default: 2000,
    desc: "how often, ms, the gateway compares each site's stored `seq` in Redis with the last one it delivered and re-reads the snapshot when Redis is ahead (a pub/sub message lost without a reconnect); one `HGET` per site; `0` turns it off",
  }),
  DASHBOARD_DIR: str({
    default: 'auto',
    desc: "directory served at `/dashboard/`; `auto`: the client package's built dashboard; empty or `off` disables it",
  }),
};

/** Verification settings of signed (JWT) client tokens. */
export interface JwtConfig {
  /** HS256 shared secret. Default: none. */
  secret: string | undefined;
  /** PEM public key (SPKI or certificate). Default: none. */
  publicKeyPem: string | undefined;
  /** JWKS document. Default: none. */
  jwks: { keys: object[] } | undefined;
  /** Where the JWKS is fetched (then held in `jwks` by the gateway's token sources). Default: none. */
  jwksUrl?: string | undefined;
  /** Required issuer. Default: not checked. */
  issuer: string | undefined;
  /** Required audience. Default: not checked. */
  audience: string | undefined;
  /** Claim with the allowed sites. Default "sites". */
  sitesClaim: string;
  /** Longest time to `exp` a token may have when presented, seconds. Default: no limit. */
  maxTtlSeconds?: number | undefined;
}

/** The gateway's settings, after validation and defaults. */
export interface GatewayConfig {
  /** Listen port; 0 = any free port. Default 8080. */
  port: number;
  /** Listen address. Default undefined (all interfaces). */
  host: string | undefined;
  /** Sites served, in order; from MATOMO_SITE_IDS, else [MATOMO_SITE_ID]. Default [1]. */
  siteIds: number[];
  /** Site of a connection without ?site=: the first of siteIds. Default 1. */
  defaultSiteId: number;
  /** Static token entries, `token` or `token@1|3` (scope: token-scope.ts; compared timing-safe). Default [] (none). */
  validTokens: string[];
  /** Signed-token verification; undefined when no JWT_* key is set. */
  jwt: JwtConfig | undefined;
  /** Files the token settings came from (`VALID_TOKENS_FILE`, …), re-read on change and SIGHUP. Default {} (none). */
  tokenFiles: TokenFiles;
  /** TLS key and certificate (PEM text); undefined = plain http/ws. */
  tls: { key: string; cert: string } | undefined;
  /** Allowed Origins; undefined = any. Requests without Origin are always allowed. */
  allowedOrigins: string[] | undefined;
  /** CIDR ranges of proxies whose X-Forwarded-For is used. Default [] (the socket address is used). */
  trustProxy: string[];
  /** Open connections per process. Default 100000. */
  maxConnections: number;
  /** Open connections per token per process. Default 10000. */
  maxConnectionsPerToken: number;
  /** Connection attempts per client IP per minute. Default 6000. */
  connectRatePerIp: number;
  /** Wrong tokens per client address (IPv6: /64) per minute before it is refused (HTTP 429) for the rest of that minute. Default 30. */
  failedAuthPerIp: number;
  /** New connections per second per process before close 1013 with a hint. Default 2000. */
  acceptRate: number;
  /** Take part in rebalancing (needs Redis). Default true. */
  rebalance: boolean;
  /** Tolerated excess over the fair share, a fraction. Default 0.1. */
  rebalanceMargin: number;
  /** Connections above the fair share always tolerated (small fleets). Default 5. */
  rebalanceMinExcess: number;
  /** Fraction of the connections moved per second at most while rebalancing. Default 0.03. */
  rebalanceRate: number;
  /** Largest accepted client frame, bytes. Default 4096. */
  maxPayloadBytes: number;
  /** Client messages per second (token bucket, burst 2×). Default 10. */
  clientMessageRate: number;
  /** WebSocket ping interval, ms. Default 25000 (below NGINX's 60 s proxy_read_timeout). */
  heartbeatIntervalMs: number;
  /** Drain window on SIGTERM, ms (0–10000). Default 5000. */
  drainWindowMs: number;
  /** Unsent bytes a client may lag behind before close 4005. Default 1 MiB. */
  sendBufferLimitBytes: number;
  /** Offer permessage-deflate. Default false. */
  perMessageDeflate: boolean;
  /** Write each broadcast's one frame to every socket (gateway/src/sessions/broadcast-writer.ts). Default true. */
  broadcastFastPath: boolean;
  /** Directory served at /dashboard/: a path, "auto" (resolve @matomo-live/client's dist/dashboard), or null (off). Default "auto". */
  dashboardDir: string | null;
  /** How to reach Redis (one of three modes); undefined only in the single-process mode (in memory). */
  redis: RedisConnectionConfig | undefined;
  /** How often the stored seq of each site is compared with the last one delivered (silent-gap check), ms; 0 = never. Default 2000. */
  seqCheckIntervalMs: number;
  /** Prefix of Redis keys and channels. Default "matomo-live:". */
  redisPrefix: string;
  /** Log level. Default "info". */
  logLevel: LogLevel;
  /** Pretty logs. Default false. */
  logPretty: boolean;
  /** The demo runs (MATOMO_LIVE_DEMO): the public demo token is accepted. Default false. */
  demo: boolean;
  /** Start-up warnings: settings that work but are risky (logged once by the gateway, never a token's text). Default []. */
  warnings: string[];
}

/** How long a gateway's shutdown may take before it is cut short: the drain window plus 5 s for the rest. */
export function gatewayShutdownDeadlineMs(config: Pick<GatewayConfig, 'drainWindowMs'>): number {
  return config.drainWindowMs + 5000;
}

/**
 * Reads, validates and defaults the gateway's configuration; throws ConfigError.
 * `readPem` turns SSL_KEY/SSL_CERT paths into PEM text (injected for tests).
 */
export function loadGatewayConfig(
  env: RawEnv = process.env,
  options: LoadConfigOptions & { readPem?: (path: string) => string } = {},
): GatewayConfig {
  // SSL_CERT_FILE is OpenSSL's CA-bundle variable, set in many images: it must not become SSL_CERT.
  const raw = readEnv({ ...env, SSL_CERT_FILE: undefined, SSL_KEY_FILE: undefined }, { ...options, names: Object.keys(gatewayEnvSpec) });
  // Checks across variables run on the raw values too, so one run reports every bad line.
  const errors = crossCheck(raw, options.requireRedis ?? true);
  const demo = demoRequested(raw.MATOMO_LIVE_DEMO);
  const demoError = demoTokenError(raw.VALID_TOKENS, demo);
  if (demoError !== undefined) errors.push(demoError);
  const e = cleanOrThrowWith(raw, gatewayEnvSpec, errors);
  const { validTokens, jwt } = tokenSettingsOf(e);
  const tls = loadTls(e.SSL_KEY, e.SSL_CERT, options.readPem, errors);
  if (errors.length > 0) throw new ConfigError(errors);
  const siteIds = configuredSiteIds(e);
  const dashboard = raw.DASHBOARD_DIR;
  return {
    port: e.PORT,
    host: e.HOST,
    siteIds,
    defaultSiteId: siteIds[0] ?? 1,
    validTokens,
    jwt,
    tokenFiles: tokenFilesOf(raw),
    tls,
    allowedOrigins: e.ALLOWED_ORIGINS === undefined || e.ALLOWED_ORIGINS.includes('*') ? undefined : e.ALLOWED_ORIGINS,
    trustProxy: e.TRUST_PROXY ?? [],
    maxConnections: e.MAX_CONNECTIONS,
    maxConnectionsPerToken: e.MAX_CONNECTIONS_PER_TOKEN,
    connectRatePerIp: e.CONNECT_RATE_PER_IP,
    failedAuthPerIp: e.FAILED_AUTH_PER_IP,
    acceptRate: e.ACCEPT_RATE,
    rebalance: e.REBALANCE,
    rebalanceMargin: e.REBALANCE_MARGIN / 100,
    rebalanceMinExcess: e.REBALANCE_MIN_EXCESS,
    rebalanceRate: e.REBALANCE_RATE / 100,
    maxPayloadBytes: e.MAX_PAYLOAD,
    clientMessageRate: e.CLIENT_MESSAGE_RATE,
    heartbeatIntervalMs: e.HEARTBEAT_INTERVAL,
    drainWindowMs: e.DRAIN_WINDOW,
    sendBufferLimitBytes: e.SEND_BUFFER_LIMIT,
    perMessageDeflate: e.PER_MESSAGE_DEFLATE,
    broadcastFastPath: e.BROADCAST_FAST_PATH,
    // "" must mean "off", but cleanOrThrow treats "" as unset: look at the raw value.
    dashboardDir: dashboard === undefined ? 'auto' : dashboard.trim() === '' || dashboard.trim() === 'off' ? null : dashboard.trim(),
    redis: redisConnectionConfig(e),
    seqCheckIntervalMs: e.REDIS_SEQ_CHECK_INTERVAL,
    redisPrefix: e.REDIS_PREFIX,
    logLevel: e.LOG_LEVEL,
    logPretty: e.LOG_PRETTY,
    demo: e.MATOMO_LIVE_DEMO,
    // The demo's token is public by design: no warning that it is short.
    warnings: demo ? [] : [shortTokenWarning(raw.VALID_TOKENS)].filter((w): w is string => w !== undefined),
  };
}

function crossCheck(raw: RawEnv, requireRedis: boolean): string[] {
  const set = (name: string) => (raw[name] ?? '').trim() !== '';
  const errors: string[] = [];
  errors.push(...redisCombinationErrors(raw, requireRedis));
  const anyStatic = splitCommaList(raw.VALID_TOKENS ?? '').length > 0;
  if (!anyStatic && !set('JWT_SECRET') && !set('JWT_PUBLIC_KEY') && !set('JWT_JWKS') && !set('JWT_JWKS_URL')) {
    errors.push(
      'VALID_TOKENS: required but not set — no client could connect; set VALID_TOKENS or JWT_SECRET / JWT_PUBLIC_KEY / JWT_JWKS_FILE / JWT_JWKS_URL',
    );
  }
  if (set('JWT_JWKS') && set('JWT_JWKS_URL')) errors.push('JWT_JWKS_URL: set together with JWT_JWKS; set only one of them');
  errors.push(...jwtKeyErrors(raw));
  if (set('SSL_KEY') !== set('SSL_CERT')) {
    const [missing, present] = set('SSL_KEY') ? ['SSL_CERT', 'SSL_KEY'] : ['SSL_KEY', 'SSL_CERT'];
    errors.push(`${missing}: required when ${present} is set (both or neither)`);
  }
  return errors;
}

/** SSL_KEY/SSL_CERT are file paths (the reference's meaning) or PEM text (what SSL_KEY_FILE yields). */
function loadTls(
  key: string | undefined,
  cert: string | undefined,
  readPem: (path: string) => string = defaultReadPem,
  errors: string[],
): { key: string; cert: string } | undefined {
  if (key === undefined && cert === undefined) return undefined;
  if (key === undefined || cert === undefined) return undefined; // reported by crossCheck
  const out: { key?: string; cert?: string } = {};
  for (const [name, value] of [
    ['SSL_KEY', key],
    ['SSL_CERT', cert],
  ] as const) {
    if (value.includes('-----BEGIN')) {
      out[name === 'SSL_KEY' ? 'key' : 'cert'] = value;
      continue;
    }
    try {
      out[name === 'SSL_KEY' ? 'key' : 'cert'] = readPem(value);
    } catch (error) {
      errors.push(`${name}: cannot read ${value} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  return out.key !== undefined && out.cert !== undefined ? { key: out.key, cert: out.cert } : undefined;
}

function defaultReadPem(path: string): string {
  return readFileSync(path, 'utf8');
}

/**
 * Reads the token files again (secret rotation) over the settings the gateway
 * started with: each file's variable is read, checked and replaced as at
 * start. A file that cannot be read, became empty or holds a bad value throws a
 * ConfigError naming the variable (never its text): the caller keeps its last
 * good settings.
 */
export function reloadTokenSettings(files: TokenFiles, base: TokenSettings): TokenSettings {
  const raw = readEnv(Object.fromEntries(Object.entries(files).map(([name, path]) => [`${name}_FILE`, path])), {
    dotenv: false,
    names: Object.keys(files),
  });
  // A file that *became* empty is a rotation gone wrong (or a write caught half-way); one empty from the start stays allowed.
  const held = {
    VALID_TOKENS: base.validTokens.length > 0,
    JWT_SECRET: !!base.jwt?.secret,
    JWT_PUBLIC_KEY: !!base.jwt?.publicKeyPem,
    JWT_JWKS: !!base.jwt?.jwks,
  };
  const errors = (Object.keys(files) as Array<keyof TokenFiles>)
    .filter((name) => held[name] && (raw[name] ?? '').trim() === '')
    .map((name) => `${name}_FILE: ${files[name]} is empty`);
  errors.push(...jwtKeyErrors(raw));
  if (errors.length > 0) throw new ConfigError(errors);
  const spec = Object.fromEntries(Object.keys(files).map((name) => [name, gatewayEnvSpec[name as keyof TokenFiles]]));
  const e = cleanOrThrow(raw, spec) as {
    VALID_TOKENS?: string[];
    JWT_SECRET?: string;
    JWT_PUBLIC_KEY?: string;
    JWT_JWKS?: { keys: object[] };
  };
  const jwt = base.jwt === undefined ? undefined : { ...base.jwt };
  if (jwt !== undefined) {
    if (files.JWT_SECRET !== undefined) jwt.secret = e.JWT_SECRET;
    if (files.JWT_PUBLIC_KEY !== undefined) jwt.publicKeyPem = e.JWT_PUBLIC_KEY;
    if (files.JWT_JWKS !== undefined) jwt.jwks = e.JWT_JWKS;
  }
  return { validTokens: files.VALID_TOKENS !== undefined ? (e.VALID_TOKENS ?? []) : base.validTokens, jwt };
}
