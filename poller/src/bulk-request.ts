import { COUNTERS_MINUTES, TODAY_COLUMNS, VISIT_COLUMNS } from './matomo-answers';

/**
 * The parts of one site's answer. Each is judged on its own: only `visits`
 * is needed to publish; the others keep their last good value when they fail.
 */
export type SitePart = 'visits' | 'counters' | 'today' | 'site' | 'summary';

/** What one tick asks Matomo about one site. */
export interface SiteQuery {
  siteId: number;
  liveLimit: number;
  /** Ask SitesManager.getSiteFromId (timezone unknown, or time to refresh it). */
  withSite: boolean;
  /** Fold VisitsSummary.get into this tick (SUMMARY_INTERVAL is due). */
  withSummary: boolean;
  /** Fold Live.getCounters since the site's local midnight into this tick, over this many minutes (1…2880). */
  todayMinutes?: number | undefined;
}

/** Where each site's answers sit in the bulk answer array. */
export interface SiteSlots {
  siteId: number;
  /** Index of each part asked this tick (`visits` and `counters` always are). */
  parts: Partial<Record<SitePart, number>>;
}

export interface BulkRequest {
  /** The URL query: module, method and format (so that even a 401 or 500 answers JSON); no secret. */
  query: string;
  /** The form body: urls[i] and token_auth (the only place the token goes). */
  body: string;
  /** How many answers the array must hold. */
  size: number;
  slots: SiteSlots[];
  /** The sub-request methods in order (for logs and errors). */
  methods: string[];
}

interface SubRequest {
  part: SitePart;
  method: string;
  params: Record<string, string | number>;
}

/** A site's sub-requests this tick, in order. A new part is one more entry here (and a reader in matomo-answers.ts). */
function siteSubRequests({ siteId, liveLimit, withSite, withSummary, todayMinutes }: SiteQuery): SubRequest[] {
  const idSite = siteId;
  const subRequests: SubRequest[] = [
    {
      part: 'visits',
      method: 'Live.getLastVisitsDetails',
      // Matomo resolves date=today in the site's timezone; doNotFetchActions and showColumns keep its work small.
      params: { idSite, period: 'day', date: 'today', filter_limit: liveLimit, doNotFetchActions: 1, showColumns: VISIT_COLUMNS.join(',') },
    },
    { part: 'counters', method: 'Live.getCounters', params: { idSite, lastMinutes: COUNTERS_MINUTES } },
  ];
  if (todayMinutes !== undefined) {
    // Raw logs since local midnight: today's visits and actions without waiting for the archive (up to 15 min old).
    // Two columns only: Matomo then skips COUNT(DISTINCT idvisitor), the costly query on a busy site.
    subRequests.push({
      part: 'today',
      method: 'Live.getCounters',
      params: { idSite, lastMinutes: todayMinutes, showColumns: TODAY_COLUMNS.join(',') },
    });
  }
  if (withSite) subRequests.push({ part: 'site', method: 'SitesManager.getSiteFromId', params: { idSite } });
  if (withSummary) {
    subRequests.push({ part: 'summary', method: 'VisitsSummary.get', params: { idSite, period: 'day', date: 'last3', format_metrics: 0 } });
  }
  return subRequests;
}

/** The query string every bulk request is sent to. */
export const BULK_QUERY = new URLSearchParams({ module: 'API', method: 'API.getBulkRequest', format: 'json' }).toString();

/** Builds the one `API.getBulkRequest` POST of a tick. */
export function buildBulkRequest(queries: readonly SiteQuery[], token: string): BulkRequest {
  const form = new URLSearchParams();
  const methods: string[] = [];
  const slots = queries.map((query): SiteSlots => {
    const parts: SiteSlots['parts'] = {};
    for (const { part, method, params } of siteSubRequests(query)) {
      const sub = new URLSearchParams({ method });
      for (const [k, v] of Object.entries(params)) sub.set(k, String(v));
      parts[part] = methods.length;
      form.set(`urls[${methods.length}]`, sub.toString());
      methods.push(method);
    }
    return { siteId: query.siteId, parts };
  });
  form.set('token_auth', token);
  return { query: BULK_QUERY, body: form.toString(), size: methods.length, slots, methods };
}
