/**
 * Faults the simulator can serve instead of a good answer.
 *
 * Whole-request faults are served one per API request, in the order they
 * were injected:
 *
 * | kind           | what the client sees                                                   |
 * |----------------|------------------------------------------------------------------------|
 * | `http-5xx`     | HTTP `status` (default 503) with a short HTML error page               |
 * | `timeout`      | nothing: the request hangs until the client gives up                   |
 * | `reset`        | the TCP connection is reset mid-request                                |
 * | `refused`      | the port stops listening for `durationMs` (default 3000): ECONNREFUSED |
 * | `invalid-json` | HTTP 200, JSON content type, a truncated JSON body                     |
 * | `html-login`   | HTTP 200, Matomo's HTML login page (what a proxy or expired session gives) |
 * | `error`        | HTTP 200, `{"result":"error","message":...}` for the whole request     |
 * | `auth`         | HTTP 401 "Unable to authenticate…" (JSON when `format` is in the URL, else Matomo's HTML error page) |
 * | `auth-blocked` | HTTP 500 "Too many failed logins…" (same JSON/HTML rule): the brute-force block |
 *
 * Sub-request faults hit one part of a bulk request (or a plain call) and
 * wait for it: they are consumed only by sub-requests of their `method`
 * (default: any), `siteId` (default: any) and `params` (default: any; e.g.
 * `{"showColumns":"visits,actions"}` picks one of two Live.getCounters), so a fault on
 * `VisitsSummary.get` waits for the tick that asks for the totals. Several
 * can hit the same request.
 *
 * | kind        | what the client sees at that sub-request's position                |
 * |-------------|---------------------------------------------------------------------|
 * | `sub-error` | `{"result":"error","message": message}` (HTTP 200 for the whole)    |
 * | `bad-shape` | valid JSON of the wrong shape (`{"value":"unexpected"}`)            |
 */
export const REQUEST_FAULT_KINDS = [
  'http-5xx',
  'timeout',
  'reset',
  'refused',
  'invalid-json',
  'html-login',
  'error',
  'auth',
  'auth-blocked',
] as const;
export const SUB_REQUEST_FAULT_KINDS = ['sub-error', 'bad-shape'] as const;
export const FAULT_KINDS = [...REQUEST_FAULT_KINDS, ...SUB_REQUEST_FAULT_KINDS] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultInput {
  kind: FaultKind;
  /** How many API requests (sub-requests for sub-request kinds) get this fault; -1 = until cleared. Default 1. Ignored by `refused`. */
  count?: number;
  /** `http-5xx` only: the status. Default 503. */
  status?: number;
  /** Sub-request kinds only: the method hit (e.g. "Live.getCounters"). Default: any. */
  method?: string;
  /** Sub-request kinds only: the idSite hit. Default: any. */
  siteId?: number;
  /** Sub-request kinds only: parameters the sub-request must have, with these values. Default: none. */
  params?: Record<string, string>;
  /** `sub-error` and `error`: the error message. Default: a Matomo-like one. */
  message?: string;
  /** `refused` only: how long the port stays closed, ms. Default 3000. */
  durationMs?: number;
}

export interface Fault extends Required<Omit<FaultInput, 'method' | 'siteId' | 'message' | 'params'>> {
  method: string | undefined;
  siteId: number | undefined;
  message: string | undefined;
  params: Record<string, string>;
}

/** Matomo 5's answer to a refused token (HTTP 401). */
export const AUTH_ERROR_MESSAGE = 'Unable to authenticate with the provided token. It is either invalid or expired.';

/** Matomo's answer while brute-force detection blocks the client's IP (HTTP 500), whatever the token. */
export const BLOCKED_MESSAGE = 'Too many failed logins. Please wait and try logging in again later.';

/** What a failing sub-request says by default: an archiving lock timeout, as busy Matomos report. */
export const SUB_ERROR_MESSAGE = 'Mysql error: SQLSTATE[HY000]: General error: 1205 Lock wait timeout exceeded; try restarting transaction';

export function parseFault(input: unknown): Fault {
  if (typeof input !== 'object' || input === null) throw new Error('a fault is an object such as {"kind":"http-5xx"}');
  const f = input as Record<string, unknown>;
  if (!FAULT_KINDS.includes(f.kind as FaultKind))
    throw new Error(`kind must be one of ${FAULT_KINDS.join(', ')}; got ${JSON.stringify(f.kind)}`);
  const count = f.count ?? 1;
  if (!Number.isInteger(count) || ((count as number) < 1 && count !== -1))
    throw new Error('count must be a whole number ≥ 1, or -1 for "until cleared"');
  const status = f.status ?? 503;
  if (!Number.isInteger(status) || (status as number) < 500 || (status as number) > 599) throw new Error('status must be 500..599');
  const durationMs = f.durationMs ?? 3000;
  if (!Number.isInteger(durationMs) || (durationMs as number) < 1) throw new Error('durationMs must be a whole number ≥ 1');
  if (f.method !== undefined && typeof f.method !== 'string') throw new Error('method must be a string such as "Live.getCounters"');
  if (f.siteId !== undefined && (!Number.isSafeInteger(f.siteId) || (f.siteId as number) < 1)) throw new Error('siteId must be a site id');
  if (f.message !== undefined && typeof f.message !== 'string') throw new Error('message must be a string');
  const params = f.params ?? {};
  if (typeof params !== 'object' || params === null || Object.values(params).some((v) => typeof v !== 'string'))
    throw new Error('params must be an object of strings such as {"showColumns":"visits,actions"}');
  return {
    kind: f.kind as FaultKind,
    count: count as number,
    status: status as number,
    durationMs: durationMs as number,
    method: f.method,
    siteId: f.siteId as number | undefined,
    message: f.message,
    params: { ...(params as Record<string, string>) },
  };
}

export function isSubRequestFault(fault: Fault): boolean {
  return (SUB_REQUEST_FAULT_KINDS as readonly string[]).includes(fault.kind);
}

/** Injected faults: whole-request ones consumed one per API request (FIFO), sub-request ones by matching sub-requests. */
export class FaultQueue {
  private queue: Fault[] = [];
  private sub: Fault[] = [];

  add(fault: Fault): void {
    (isSubRequestFault(fault) ? this.sub : this.queue).push({ ...fault, params: { ...fault.params } });
  }

  /** The whole-request fault for the next API request, if any, counting it as used. */
  take(): Fault | undefined {
    return use(this.queue, 0);
  }

  /** The first sub-request fault matching this sub-request, if any, counting it as used. */
  takeFor(params: URLSearchParams): Fault | undefined {
    const at = this.sub.findIndex(
      (f) =>
        (f.method === undefined || f.method === params.get('method')) &&
        (f.siteId === undefined || String(f.siteId) === params.get('idSite')) &&
        Object.entries(f.params).every(([k, v]) => params.get(k) === v),
    );
    return at < 0 ? undefined : use(this.sub, at);
  }

  clear(): void {
    this.queue = [];
    this.sub = [];
  }

  pending(): Fault[] {
    return [...this.queue, ...this.sub].map((f) => ({ ...f }));
  }
}

function use(list: Fault[], at: number): Fault | undefined {
  const fault = list[at];
  if (!fault) return undefined;
  if (fault.count > 0 && --fault.count === 0) list.splice(at, 1);
  return fault;
}

export const HTML_LOGIN_PAGE = `<!DOCTYPE html>
<html id="ng-app" ng-app="piwikApp">
<head>
<meta charset="utf-8">
<title>Sign in - Matomo</title>
<meta name="robots" content="noindex,nofollow">
</head>
<body id="loginPage" class="loginPage">
<section class="loginSection">
<h1>Sign in</h1>
<form id="login_form" action="index.php?module=Login" method="post">
<input type="text" name="form_login" id="login_form_login" placeholder="Username or e-mail">
<input type="password" name="form_password" id="login_form_password" placeholder="Password">
<input type="submit" value="Sign in">
</form>
</section>
</body>
</html>
`;

/** Matomo's HTML error page (what it sends for an error when `format` is not in the URL, e.g. a 401 or 500). */
export function htmlErrorPage(message: string): string {
  return `<!DOCTYPE html>
<html>
<head>
\t<meta charset="utf-8">
\t<meta name="robots" content="noindex,nofollow">
\t<title>Matomo &rsaquo; Error</title>
</head>
<body id="simple">
<div class="box">
\t<div class="header">
\t\t<h1>An error occurred</h1>
\t</div>
\t<div class="content"><h2>${message}</h2><p><a href="javascript:window.history.back();">Go Back</a></p></div>
</div>
</body>
</html>
`;
}
