import { addDays, localDate, startOfLocalDay } from '@matomo-live/shared';
import { EMPTY_DAY, type DayTotals, type SimData } from './sim-data';
import { toMatomoVisit, type SimVisit, type SiteInfo } from './sim-visit';

/** Matomo's error body: `{"result":"error","message":...}`, usually with HTTP 200. */
interface MatomoError {
  result: 'error';
  message: string;
}

export function matomoError(message: string): MatomoError {
  return { result: 'error', message };
}

/** The methods the simulator answers; anything else is Matomo's "method does not exist" error. */
const SUPPORTED_METHODS = [
  'Live.getLastVisitsDetails',
  'Live.getCounters',
  'VisitsSummary.get',
  'SitesManager.getSiteFromId',
  'API.getMatomoVersion',
] as const;

/** Answers one API call (a bulk sub-request or a plain request) in Matomo's JSON shapes. */
export function callMethod(params: URLSearchParams, data: SimData, nowMs: number): unknown {
  const method = params.get('method') ?? '';
  if (method === '') return matomoError("The parameter 'method' isn't set in the Request, and a default value wasn't provided.");
  if (method === 'API.getMatomoVersion') return { value: MATOMO_VERSION };
  if (!(SUPPORTED_METHODS as readonly string[]).includes(method)) {
    const [module = method] = method.split('.');
    if (!KNOWN_MODULES.includes(module)) {
      return matomoError(`The plugin ${module} is not enabled. You can activate the plugin on Settings &gt; Plugins page in Matomo.`);
    }
    return matomoError(
      `The method '${method.slice(module.length + 1) || method}' does not exist or is not available in the module '\\Piwik\\Plugins\\${module}\\API'.`,
    );
  }
  const idSite = Number(params.get('idSite'));
  const site = Number.isSafeInteger(idSite) ? data.site(idSite) : undefined;
  if (!site) {
    // Real Matomo (super user token): Live.getCounters counts nothing for a site that does not exist; the rest refuse it.
    if (method === 'Live.getCounters') return counters(params, undefined, data, nowMs);
    return matomoError(`An unexpected website was found in the request: website id was set to '${params.get('idSite') ?? ''}' .`);
  }
  switch (method) {
    case 'SitesManager.getSiteFromId':
      return siteFromId(site);
    case 'Live.getCounters':
      return counters(params, site, data, nowMs);
    case 'Live.getLastVisitsDetails':
      return lastVisits(params, data, site, nowMs);
    default:
      return visitsSummary(params, data, site, nowMs);
  }
}

/** What API.getMatomoVersion answers: the version of the real Matomo the fixtures come from. */
const MATOMO_VERSION = '5.2.0-b5';

/** Modules of the supported methods: an unknown method there is "does not exist", elsewhere "plugin not enabled". */
const KNOWN_MODULES = ['Live', 'VisitsSummary', 'SitesManager', 'API'];

/** "You can't access…": a missing token, per sub-request (HTTP 200 inside a bulk request, 401 alone). */
export function noAccessError(params: URLSearchParams): MatomoError {
  return matomoError(`You can't access this resource as it requires 'view' access for the website id = ${params.get('idSite') ?? ''}.`);
}

function siteFromId(site: SiteInfo): Record<string, unknown> {
  return {
    idsite: site.idSite,
    name: site.name,
    main_url: site.mainUrl.replace(/\/$/, ''),
    ts_created: '2020-01-01 00:00:00',
    ecommerce: 0,
    sitesearch: 1,
    sitesearch_keyword_parameters: '',
    sitesearch_category_parameters: '',
    timezone: site.timezone,
    currency: 'EUR',
    exclude_unknown_urls: 0,
    excluded_ips: '',
    excluded_parameters: '',
    excluded_user_agents: '',
    excluded_referrers: '',
    group: '',
    type: 'website',
    keep_url_fragment: 0,
    creator_login: 'admin',
    timezone_name: site.timezone,
    currency_name: 'Euro',
  };
}

/**
 * Live.getCounters as Matomo computes it from raw logs: visits whose last
 * action is in the window, action rows in the window (earlier actions of the
 * same visit excluded), distinct visitors, conversions; the last three are 0
 * when there is no visit. showColumns/hideColumns keep only those keys.
 */
function counters(params: URLSearchParams, site: SiteInfo | undefined, data: SimData, nowMs: number): unknown {
  const raw = params.get('lastMinutes') ?? '';
  if (!/^-?\d+$/.test(raw.trim())) return matomoError("Please specify a value for 'lastMinutes'.");
  const lastMinutes = Number(raw);
  if (lastMinutes < 1 || lastMinutes > 2880) return matomoError('lastMinutes only accepts values between 1 and 2880');
  const since = Math.floor(nowMs / 1000) - lastMinutes * 60;
  const recent = site ? data.visitsAfter(site.idSite, since - 1) : [];
  const row = {
    visits: recent.length,
    actions: recent.reduce((sum, v) => sum + actionsSince(v, since), 0),
    visitors: new Set(recent.map((v) => v.visitorId)).size,
    visitsConverted: recent.filter((v) => v.converted).length,
  };
  return [selectColumns(row, params)];
}

/** Actions of `v` at or after `since` (Unix s), with its actions spread evenly over its duration as actionDetails shows them. */
function actionsSince(v: SimVisit, since: number): number {
  if (v.firstActionTimestamp >= since) return v.actions;
  const step = v.actions > 1 ? (v.lastActionTimestamp - v.firstActionTimestamp) / (v.actions - 1) : 0;
  let count = 0;
  for (let i = 0; i < v.actions; i++) if (v.firstActionTimestamp + i * step >= since) count++;
  return count;
}

function lastVisits(params: URLSearchParams, data: SimData, site: SiteInfo, nowMs: number): unknown {
  const period = params.get('period') ?? 'day';
  const date = params.get('date') ?? 'today';
  let from = -Infinity;
  let to = Infinity;
  if (params.has('period') || params.has('date')) {
    const resolved = resolveDates(date, site, nowMs);
    if (typeof resolved === 'string') return matomoError(resolved);
    if (period !== 'day' || resolved.length !== 1)
      return matomoError(`The simulator supports period=day with one date for Live, got period=${period}&date=${date}`);
    // Matomo's Live API includes the whole previous day for period=day, so visits around midnight are not lost.
    from = startOfLocalDay(addDays(resolved[0]!, -1), site.zone) / 1000;
    to = startOfLocalDay(addDays(resolved[0]!, 1), site.zone) / 1000;
  }
  // Real Matomo: strict `visit_last_action_time > minTimestamp` (whole seconds); a value that is not numeric is ignored.
  const rawMin = params.get('minTimestamp') ?? '';
  const minTimestamp = /^\d+$/.test(rawMin.trim()) ? Number(rawMin) : -Infinity;
  const limit = params.has('filter_limit') ? Number(params.get('filter_limit')) : 100;
  const offset = Number(params.get('filter_offset') ?? 0);
  if (!Number.isInteger(limit) || !Number.isInteger(offset)) return matomoError('filter_limit and filter_offset must be whole numbers');
  const withActions = params.get('doNotFetchActions') !== '1' && params.get('doNotFetchActions') !== 'true';
  const newestFirst = data
    .visitsOf(site.idSite)
    .filter((v) => v.lastActionTimestamp >= from && v.lastActionTimestamp < to && v.lastActionTimestamp > minTimestamp);
  // Matomo orders by (last action time, idvisit), newest first unless filter_sort_order=asc.
  const matching = params.get('filter_sort_order') === 'asc' ? [...newestFirst].reverse() : newestFirst;
  const page = limit < 0 ? matching.slice(offset) : matching.slice(offset, offset + limit);
  return page.map((v) => selectColumns(toMatomoVisit(v, site, withActions), params));
}

function visitsSummary(params: URLSearchParams, data: SimData, site: SiteInfo, nowMs: number): unknown {
  const period = params.get('period');
  const date = params.get('date');
  if (period === null) return matomoError("Please specify a value for 'period'.");
  if (date === null) return matomoError("Please specify a value for 'date'.");
  if (period !== 'day') return matomoError(`The simulator supports period=day only, got "${period}"`);
  const dates = resolveDates(date, site, nowMs);
  if (typeof dates === 'string') return matomoError(dates);
  const raw = params.get('format_metrics') === '0' || params.get('format_metrics') === 'false';
  const shown =
    params
      .get('showColumns')
      ?.split(',')
      .map((c) => c.trim())
      .filter((c) => c !== '') ?? [];
  // One column: Matomo answers the bare number ({"value":7}, or {"2024-07-04":7,…} for several dates).
  const single = shown.length === 1 ? shown[0]! : undefined;
  // A day without data: [] in a multi-date answer, all zeros when asked alone.
  const render = (d: string, alone: boolean): unknown => {
    const totals = data.day(site.idSite, d) ?? (alone ? EMPTY_DAY : undefined);
    const row = totals ? selectColumns(dayMetrics(totals, raw), params) : undefined;
    if (single === undefined) return row ?? [];
    return row?.[single] ?? (alone ? 0 : []);
  };
  if (!isMultiDate(date)) return single === undefined ? render(dates[0]!, true) : { value: render(dates[0]!, true) };
  const keyed: Record<string, unknown> = {};
  for (const d of dates) keyed[d] = render(d, false);
  return keyed;
}

/** Raw archive numbers plus Matomo's processed metrics; `raw` is format_metrics=0. */
function dayMetrics(t: DayTotals, raw: boolean): Record<string, unknown> {
  const bounceRate = t.nb_visits ? t.bounce_count / t.nb_visits : 0;
  return {
    ...t,
    bounce_rate: raw ? round(bounceRate, 2) : `${Math.round(bounceRate * 100)}%`,
    nb_actions_per_visit: round(t.nb_visits ? t.nb_actions / t.nb_visits : 0, 1),
    avg_time_on_site: t.nb_visits ? Math.round(t.sum_visit_length / t.nb_visits) : 0,
  };
}

function isMultiDate(date: string): boolean {
  return /^(last|previous)\d+$/.test(date) || date.includes(',');
}

/** Matomo's `date` forms for period=day, resolved in the site's timezone; an error message when invalid. */
function resolveDates(date: string, site: SiteInfo, nowMs: number): string[] | string {
  const today = localDate(nowMs, site.zone);
  const single = (d: string): string | undefined => {
    if (d === 'today' || d === 'now') return today;
    if (d === 'yesterday') return addDays(today, -1);
    if (/^\d{4}-\d{2}-\d{2}$/.test(d) && !Number.isNaN(Date.parse(`${d}T00:00:00Z`))) return d;
    return undefined;
  };
  const lastN = /^(last|previous)(\d+)$/.exec(date);
  if (lastN) {
    const n = Number(lastN[2]);
    if (n < 1 || n > 1000) return `The date '${date}' is not a correct date range`;
    const end = lastN[1] === 'last' ? today : addDays(today, -1);
    return Array.from({ length: n }, (_, i) => addDays(end, i - n + 1));
  }
  if (date.includes(',')) {
    const [a, b] = date.split(',').map((d) => single(d.trim()));
    if (!a || !b || a > b) return `The date '${date}' is not a correct date range`;
    const out: string[] = [];
    for (let d = a; d <= b && out.length <= 1000; d = addDays(d, 1)) out.push(d);
    return out;
  }
  const one = single(date);
  return one
    ? [one]
    : "Date format must be: YYYY-MM-DD, or 'today' or 'yesterday' or any keyword supported by the strtotime function (see http://php.net/strtotime for more information): false";
}

function selectColumns(row: Record<string, unknown>, params: URLSearchParams): Record<string, unknown> {
  const show = params.get('showColumns');
  const hide = params.get('hideColumns');
  let entries = Object.entries(row);
  if (show) {
    const keep = new Set(show.split(',').map((c) => c.trim()));
    entries = entries.filter(([k]) => keep.has(k));
  }
  if (hide) {
    const drop = new Set(hide.split(',').map((c) => c.trim()));
    entries = entries.filter(([k]) => !drop.has(k));
  }
  return Object.fromEntries(entries);
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
