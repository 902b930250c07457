/**
 * A faithful small re-implementation of the one-file reference script's
 * polling loop, for the poller comparison. Every FETCH_INTERVAL ms it makes
 * 7 separate POSTs to Matomo:
 *
 *   1 × Live.getLastVisitsDetails (today)
 *   3 × VisitsSummary.get showColumns=nb_visits        (today, yesterday, the day before)
 *   3 × VisitsSummary.get showColumns=sum_visit_length (today, yesterday, the day before)
 *
 * and builds the reference message {"visits_live": [...], "summary": {today, yesterday, day_before}}
 * (what it would broadcast to its clients). Matomo 5 answers one showColumns
 * as {"value":N}: read that (an earlier version read .nb_visits and showed 0
 * visits against a real Matomo). The day before is a UTC date, as in the
 * script (its today and yesterday are Matomo's, site-local). token_auth travels in the POST
 * body (Matomo 5 refuses it in URLs), so the comparison is about request
 * count and bytes, not about that old flaw.
 *
 * CLI: `node bench/dist/poller/reference-poller.js` with MATOMO_URL, MATOMO_TOKEN (required),
 * MATOMO_SITE_ID (default 1), FETCH_INTERVAL (default 1000).
 */

/** Visits asked per tick: the same as this poller's LIVE_LIMIT default, so bytes compare like for like. */
const LIVE_LIMIT = 5;

export interface ReferencePollerOptions {
  /** Matomo base URL ending in "/". */
  matomoUrl: string;
  token: string;
  siteId: number;
  /** Poll interval, ms. */
  intervalMs: number;
  /** Receives each message built (the reference broadcast it). */
  onMessage?: (message: string) => void;
}

interface ReferenceVisit {
  latitude: string | null;
  longitude: string | null;
  city: string;
  countryCode: string;
  country: string;
  actions: string;
  visitIp: string;
  operatingSystem: string;
  browserName: string;
  source: string;
  lastActionDateTime: string;
}

/** VisitsSummary.get with one showColumns: Matomo 5 answers {"value":N}; older versions (and old simulators) {"nb_visits":N}. */
type OneColumn = { value?: number | string } & Record<string, number | string | undefined>;

function oneColumn(answer: OneColumn | undefined, column: string): number {
  return Number(answer?.value ?? answer?.[column] ?? 0);
}

function isoDay(offsetDays: number, now = Date.now()): string {
  return new Date(now - offsetDays * 86_400_000).toISOString().slice(0, 10);
}

function secondsToHms(total: number): string {
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = Math.floor(total % 60);
  return [h, m, s].map((n) => String(n).padStart(2, '0')).join(':');
}

export function startReferencePoller(options: ReferencePollerOptions): { stop(): void } {
  const endpoint = new URL('index.php', options.matomoUrl).toString();
  const call = async (params: Record<string, string>): Promise<unknown> => {
    const body = new URLSearchParams({
      module: 'API',
      format: 'json',
      idSite: String(options.siteId),
      ...params,
      token_auth: options.token,
    });
    const response = await fetch(endpoint, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    return response.json();
  };
  const daySummary = async (date: string): Promise<{ visits: number; time_spent: string }> => {
    const [visits, length] = (await Promise.all([
      call({ method: 'VisitsSummary.get', period: 'day', date, showColumns: 'nb_visits' }),
      call({ method: 'VisitsSummary.get', period: 'day', date, showColumns: 'sum_visit_length' }),
    ])) as [OneColumn, OneColumn];
    return { visits: oneColumn(visits, 'nb_visits'), time_spent: secondsToHms(oneColumn(length, 'sum_visit_length')) };
  };
  const tick = async (): Promise<void> => {
    const [visits, today, yesterday, dayBefore] = await Promise.all([
      call({ method: 'Live.getLastVisitsDetails', period: 'day', date: 'today', filter_limit: String(LIVE_LIMIT) }) as Promise<
        ReferenceVisit[]
      >,
      daySummary('today'),
      daySummary('yesterday'),
      daySummary(isoDay(2)),
    ]);
    const visitsLive = (Array.isArray(visits) ? visits : [])
      .filter((v) => v.latitude !== null && v.longitude !== null)
      .map((v) => ({
        latitude: Number(v.latitude),
        longitude: Number(v.longitude),
        city: v.city,
        countryCode: v.countryCode,
        country: v.country,
        actions: Number(v.actions),
        visitIp: v.visitIp,
        operatingSystem: v.operatingSystem,
        browserName: v.browserName,
        source: v.source,
        lastActionDateTime: v.lastActionDateTime,
      }));
    options.onMessage?.(JSON.stringify({ visits_live: visitsLive, summary: { today, yesterday, day_before: dayBefore } }));
  };
  const timer = setInterval(
    () => void tick().catch((error: Error) => console.error(`reference poller: ${error.message}`)),
    options.intervalMs,
  );
  void tick().catch((error: Error) => console.error(`reference poller: ${error.message}`));
  return { stop: () => clearInterval(timer) };
}

if (require.main === module) {
  const { MATOMO_URL, MATOMO_TOKEN } = process.env;
  if (!MATOMO_URL || !MATOMO_TOKEN) {
    console.error('MATOMO_URL and MATOMO_TOKEN: required');
    process.exit(78);
  }
  const poller = startReferencePoller({
    matomoUrl: MATOMO_URL.endsWith('/') ? MATOMO_URL : `${MATOMO_URL}/`,
    token: MATOMO_TOKEN,
    siteId: Number(process.env.MATOMO_SITE_ID ?? 1),
    intervalMs: Number(process.env.FETCH_INTERVAL ?? 1000),
  });
  process.once('SIGTERM', () => {
    poller.stop();
    process.exit(0);
  });
}
