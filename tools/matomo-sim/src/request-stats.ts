/** What the simulator saw, for tests that count requests or check where the token travelled. */
export interface SimStats {
  /** HTTP requests to the Matomo API (`/index.php` or `/`), faults included; control calls excluded. */
  requests: number;
  /** Of those, `API.getBulkRequest` calls. */
  bulkRequests: number;
  /** Sub-requests of bulk calls (and plain calls), by method, e.g. {"Live.getCounters": 3}. */
  subRequests: Record<string, number>;
  /** Faults served, by kind. */
  faultsServed: Record<string, number>;
  /** Requests refused for a wrong or missing token (injected `auth` faults not included). */
  authFailures: number;
  /** Requests that carried `token_auth` in the URL query (refused unless refuseTokenInUrl is off). */
  tokenInUrl: number;
  /** The latest requests, oldest first, with every token_auth value replaced by "[redacted]". */
  recent: RequestRecord[];
}

export interface RequestRecord {
  /** ISO time the request arrived. */
  at: string;
  httpMethod: string;
  /** Path and query, token redacted. */
  url: string;
  /** Raw body, token redacted. */
  body: string;
  /** The API methods asked for (bulk sub-requests in order, or the single method). */
  methods: string[];
  /** Whether a token_auth was present in the body / in the URL. */
  tokenInBody: boolean;
  tokenInUrl: boolean;
}

export function emptyStats(): SimStats {
  return { requests: 0, bulkRequests: 0, subRequests: {}, faultsServed: {}, authFailures: 0, tokenInUrl: 0, recent: [] };
}

/** Replaces every token_auth value in a query string or form body. */
export function redactToken(text: string): string {
  return text.replace(/(^|[?&])(token_auth=)[^&]*/g, '$1$2[redacted]');
}

export function bump(counter: Record<string, number>, key: string): void {
  counter[key] = (counter[key] ?? 0) + 1;
}
