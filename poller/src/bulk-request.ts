import { COUNTERS_MINUTES, VISIT_COLUMNS } from './matomo-answers';

/** What one tick asks Matomo about one site. */
export interface SiteQuery {
  siteId: number;
  liveLimit: number;
  /** Ask SitesManager.getSiteFromId (timezone unknown, or time to refresh it). */
  withSite: boolean;
  /** Fold VisitsSummary.get into this tick (SUMMARY_INTERVAL is due). */
  withSummary: boolean;
}

/** Where each site's answers sit in the bulk answer array. */
export interface SiteSlots {
  siteId: number;
  visits: number;
  counters: number;
  site: number | undefined;
  summary: number | undefined;
}

export interface BulkRequest {
  /** The form body: module, method, format, urls[i], token_auth (the only place the token goes). */
  body: string;
  /** How many answers the array must hold. */
  size: number;
  slots: SiteSlots[];
  /** The sub-request methods in order (for logs and errors). */
  methods: string[];
}

/** Builds the one `API.getBulkRequest` POST body of a tick. */
export function buildBulkRequest(queries: readonly SiteQuery[], token: string): BulkRequest {
  const urls: string[] = [];
  const methods: string[] = [];
  const add = (method: string, params: Record<string, string | number>): number => {
    methods.push(method);
    const query = new URLSearchParams({ method });
    for (const [k, v] of Object.entries(params)) query.set(k, String(v));
    return urls.push(query.toString()) - 1;
  };
  const slots = queries.map(({ siteId, liveLimit, withSite, withSummary }): SiteSlots => ({
    siteId,
    // Matomo resolves date=today in the site's timezone; doNotFetchActions and showColumns keep its work small.
    visits: add('Live.getLastVisitsDetails', {
      idSite: siteId,
      period: 'day',
      date: 'today',
      filter_limit: liveLimit,
      doNotFetchActions: 1,
      showColumns: VISIT_COLUMNS.join(','),
    }),
    counters: add('Live.getCounters', { idSite: siteId, lastMinutes: COUNTERS_MINUTES }),
    site: withSite ? add('SitesManager.getSiteFromId', { idSite: siteId }) : undefined,
    summary: withSummary ? add('VisitsSummary.get', { idSite: siteId, period: 'day', date: 'last3', format_metrics: 0 }) : undefined,
  }));
  const form = new URLSearchParams({ module: 'API', method: 'API.getBulkRequest', format: 'json' });
  urls.forEach((u, i) => form.set(`urls[${i}]`, u));
  form.set('token_auth', token);
  return { body: form.toString(), size: urls.length, slots, methods };
}
