import { bool, str } from 'envalid';
import { cleanOrThrowWith } from './clean';
import { commonEnvSpec, configuredSiteIds, type LoadConfigOptions } from './common-env';
import { readEnv, type RawEnv } from './read-env';
import { redisCombinationErrors, redisConnectionConfig, type RedisConnectionConfig } from './redis-env';
import { intIn, matomoBaseUrl, milliseconds, millisecondsOrOff, siteIdList, type LogLevel } from './validators';
import { ConfigError } from './config-error';

/** Environment variables the poller reads (each `desc` is docs/CONFIGURATION.md's text; also checked against compose and Kubernetes). */
export const pollerEnvSpec = {
  ...commonEnvSpec,
  MATOMO_URL: matomoBaseUrl({
    desc: 'Matomo base URL, with or without a trailing `/` or `index.php`',
    example: 'https://matomo.example.org/',
  }),
  MATOMO_TOKEN: str({ desc: '`token_auth` with view access to the sites; sent only in POST bodies, never logged' }),
  MATOMO_SITE_ID: intIn(1, Number.MAX_SAFE_INTEGER)({ default: 1, desc: 'site to poll' }),
  MATOMO_SITE_IDS: siteIdList({ default: undefined, desc: 'several sites to poll, e.g. `1,2,3` (overrides `MATOMO_SITE_ID`)' }),
  FETCH_INTERVAL: milliseconds(100)({ default: 1000, desc: "poll interval, ms, at least 100 (the reference's; `43200000` is valid too)" }),
  SUMMARY_INTERVAL: milliseconds(1000)({
    default: 60_000,
    desc: "how often the daily totals (time spent, bounces, unique visitors, yesterday, the day before) are fetched, ms (Matomo rebuilds today's about every 15 min)",
  }),
  TODAY_INTERVAL: millisecondsOrOff(1000)({
    default: 10_000,
    desc: "how often today's visits and actions are counted from Matomo's raw logs (`Live.getCounters` since the site's midnight), ms; `0` = off (today's numbers then come from the archive, up to 15 min old)",
  }),
  LIVE_LIMIT: intIn(1, 100)({ default: 5, desc: 'latest visits in each snapshot (`visits_live`, 1–100)' }),
  LIVE_REFRESH_INTERVAL: milliseconds(100)({
    default: 60_000,
    desc: 'how often the latest visits are read in full (Matomo\'s "latest N" query, a sort of one to two days of visits on a busy site), ms; between, the incremental fetch keeps them current. `FETCH_INTERVAL` or less: every tick (what earlier versions did)',
  }),
  EVENTS_PER_TICK: intIn(
    1,
    1000,
  )({
    default: 100,
    desc: 'most new or updated visits taken per tick and site by the incremental fetch (Matomo works ~1 ms per visit); more wait for the next tick',
  }),
  EVENTS_RETENTION: millisecondsOrOff(
    60_000,
    86_400_000,
  )({
    default: 1_800_000,
    desc: 'how long visit events stay in Redis for clients that resume (`since=`), ms (1 min–24 h); `0` = no events (nothing stored; the incremental fetch still keeps `visits_live` current)',
  }),
  EVENTS_MAXLEN: intIn(
    100,
    1_000_000,
  )({
    default: 10_000,
    desc: 'most visit events kept per site whatever their age (memory bound: ~0.5 KiB each)',
  }),
  MATOMO_TIMEOUT: milliseconds(100)({ default: 10_000, desc: 'timeout of one Matomo request, ms' }),
  PUBLISH_VISITOR_IP: bool({ default: false, desc: 'publish real visitor IPs (personal data); otherwise `visitIp` is `""`' }),
  KEEP_VISITS_WITHOUT_LOCATION: bool({ default: false, desc: 'keep visits without coordinates (the reference drops them)' }),
  LEASE_TTL: milliseconds(1000, 600_000)({ default: 5000, desc: 'leadership lease, ms; a standby poller takes over within about two' }),
  POLLER_HEALTH_PORT: intIn(
    0,
    65535,
  )({ default: 8081, desc: 'port of `/healthz`, `/readyz` and `/metrics` (Prometheus); `0` turns them off' }),
};

/** The poller's settings, after validation and defaults. */
export interface PollerConfig {
  /** Matomo base URL, normalized to end in "/" (no index.php). */
  matomoUrl: string;
  /** token_auth; sent only in POST bodies, never logged. */
  matomoToken: string;
  /** Sites polled, in order; from MATOMO_SITE_IDS, else [MATOMO_SITE_ID]. Default [1]. */
  siteIds: number[];
  /** Timeout of one Matomo request, ms. Default 10000. */
  matomoTimeoutMs: number;
  /** Poll interval, ms. Default 1000 (the reference's). */
  fetchIntervalMs: number;
  /** Daily totals refresh interval, ms. Default 60000. */
  summaryIntervalMs: number;
  /** Live "today" (raw-log visits and actions since the site's midnight) refresh interval, ms; 0 = off. Default 10000. */
  todayIntervalMs: number;
  /** Latest visits in each snapshot. Default 5. */
  liveLimit: number;
  /** How often the latest visits are read in full (between, the cursor keeps them current), ms. Default 60000. */
  liveRefreshIntervalMs: number;
  /** Most visits the incremental fetch takes per tick and site. Default 100. */
  eventsPerTick: number;
  /** Visit events kept this long, ms; 0 = no events. Default 1800000 (30 min). */
  eventsRetentionMs: number;
  /** Most visit events kept per site. Default 10000. */
  eventsMaxLen: number;
  /** Publish real visitor IPs. Default false ("" is sent). */
  publishVisitorIp: boolean;
  /** Keep visits without coordinates. Default false (dropped, as the reference). */
  keepVisitsWithoutLocation: boolean;
  /** Leadership lease length, ms. Default 5000. */
  leaseTtlMs: number;
  /** Health endpoint port; 0 = off. Default 8081. */
  healthPort: number;
  /** How to reach Redis (one of three modes); undefined only in the single-process mode (in memory). */
  redis: RedisConnectionConfig | undefined;
  /** Prefix of Redis keys and channels. Default "matomo-live:". */
  redisPrefix: string;
  /** Log level. Default "info". */
  logLevel: LogLevel;
  /** Pretty logs. Default false. */
  logPretty: boolean;
  /** Start-up warnings: settings that work but are risky (logged once at start). Default []. */
  warnings: string[];
}

/** Reads, validates and defaults the poller's configuration; throws ConfigError. */
export function loadPollerConfig(env: RawEnv = process.env, options: LoadConfigOptions = {}): PollerConfig {
  // Only our own names: an unrelated *_FILE variable (TF_CLI_CONFIG_FILE…) must not be opened as a secret.
  const raw = readEnv(env, { ...options, names: Object.keys(pollerEnvSpec) });
  // Checked on the raw values too, so one run reports every bad line.
  const errors = redisCombinationErrors(raw, options.requireRedis ?? true);
  const e = cleanOrThrowWith(raw, pollerEnvSpec, errors);
  if (errors.length > 0) throw new ConfigError(errors);
  return {
    matomoUrl: e.MATOMO_URL,
    matomoToken: e.MATOMO_TOKEN,
    siteIds: configuredSiteIds(e),
    matomoTimeoutMs: e.MATOMO_TIMEOUT,
    fetchIntervalMs: e.FETCH_INTERVAL,
    summaryIntervalMs: e.SUMMARY_INTERVAL,
    todayIntervalMs: e.TODAY_INTERVAL,
    liveLimit: e.LIVE_LIMIT,
    liveRefreshIntervalMs: e.LIVE_REFRESH_INTERVAL,
    eventsPerTick: e.EVENTS_PER_TICK,
    eventsRetentionMs: e.EVENTS_RETENTION,
    eventsMaxLen: e.EVENTS_MAXLEN,
    publishVisitorIp: e.PUBLISH_VISITOR_IP,
    keepVisitsWithoutLocation: e.KEEP_VISITS_WITHOUT_LOCATION,
    leaseTtlMs: e.LEASE_TTL,
    healthPort: e.POLLER_HEALTH_PORT,
    redis: redisConnectionConfig(e),
    redisPrefix: e.REDIS_PREFIX,
    logLevel: e.LOG_LEVEL,
    logPretty: e.LOG_PRETTY,
    warnings: e.MATOMO_LIVE_DEMO ? [] : [plainHttpWarning(e.MATOMO_URL)].filter((w): w is string => w !== undefined),
  };
}

/** A warning when MATOMO_URL is plain http:// to a host other than this machine: the token_auth would cross the network in clear. */
export function plainHttpWarning(matomoUrl: string): string | undefined {
  const url = new URL(matomoUrl);
  if (url.protocol !== 'http:' || isLoopbackHost(url.hostname)) return undefined;
  return `MATOMO_URL: plain http:// to ${url.hostname}, not this machine: MATOMO_TOKEN travels in clear on the network; use https://`;
}

/** localhost, 127.0.0.0/8 or ::1 (as URL.hostname spells them). */
function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  return host === 'localhost' || host.endsWith('.localhost') || /^127\.\d+\.\d+\.\d+$/.test(host) || host === '[::1]';
}
