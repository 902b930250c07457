import { COUNTERS_MINUTES, TODAY_COLUMNS, VISIT_COLUMNS } from './matomo-answers';

/**
 * The parts of one site's answer. Each is judged on its own: the latest visits
 * (a full read, `visits`, or kept current by the incremental fetch, `cursor`)
 * are needed to publish; the others keep their last good value when they fail.
 */
export type SitePart = 'visits' | 'cursor' | 'counters' | 'today' | 'site' | 'summary';

/** The incremental fetch's sub-request (visit-cursor.ts, cursorQuery). */
export interface CursorQuery {
  minTimestamp: number;
  filterOffset: number;
  filterLimit: number;
}

/** What one tick asks Matomo about one site. */
export interface SiteQuery {
  siteId: number;
  liveLimit: number;
  /** Read the latest visits in full (Matomo sorts a day or two of visits for it: not every tick). */
  withVisits: boolean;
  /** Ask for the visits new or updated since the cursor. */
  cursor?: CursorQuery | undefined;
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
  /** Index of each part asked this tick (`counters` always is). */
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
function siteSubRequests({ siteId, liveLimit, withVisits, cursor, withSite, withSummary, todayMinutes }: SiteQuery): SubRequest[] {
  const idSite = siteId;
  const subRequests: SubRequest[] = [];
  if (withVisits) {
    subRequests.push({
      part: 'visits',
      method: 'Live.getLastVisitsDetails',
      // Matomo resolves date=today in the site's timezone; doNotFetchActions and showColumns keep its work small.
      params: { idSite, period: 'day', date: 'today', filter_limit: liveLimit, doNotFetchActions: 1, showColumns: VISIT_COLUMNS.join(',') },
    });
  }
  if (cursor) {
    // Visits whose last action is strictly after minTimestamp, oldest first, one more than taken (so a full page tells).
    // No period/date: Matomo then applies no window, and an old cursor is not clipped silently.
    const params: Record<string, string | number> = {
      idSite,
      minTimestamp: cursor.minTimestamp,
      filter_sort_order: 'asc',
      filter_limit: cursor.filterLimit,
      doNotFetchActions: 1,
      showColumns: VISIT_COLUMNS.join(','),
    };
    if (cursor.filterOffset > 0) params.filter_offset = cursor.filterOffset;
    subRequests.push({ part: 'cursor', method: 'Live.getLastVisitsDetails', params });
  }
  subRequests.push({ part: 'counters', method: 'Live.getCounters', params: { idSite, lastMinutes: COUNTERS_MINUTES } });
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
