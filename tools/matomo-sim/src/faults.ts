/**
 * Faults the simulator can serve instead of a good answer, one per API
 * request, in the order they were injected.
 *
 * | kind         | what the client sees                                                   |
 * |--------------|------------------------------------------------------------------------|
 * | `http-5xx`   | HTTP `status` (default 503) with a short HTML error page               |
 * | `timeout`    | nothing: the request hangs until the client gives up                   |
 * | `reset`      | the TCP connection is reset mid-request                                |
 * | `refused`    | the port stops listening for `durationMs` (default 3000): ECONNREFUSED |
 * | `invalid-json` | HTTP 200, JSON content type, a truncated JSON body                   |
 * | `html-login` | HTTP 200, Matomo's HTML login page (what a proxy or expired session gives) |
 * | `error`      | HTTP 200, `{"result":"error","message":...}` for the whole request     |
 * | `sub-error`  | HTTP 200, the bulk array with an error object at one position (`method`, default the first) |
 * | `bad-shape`  | HTTP 200, the bulk array with valid JSON of the wrong shape at one position (`method`, default the first) |
 * | `auth`       | HTTP 401, `{"result":"error","message":"Unable to authenticate ..."}` |
 */
export const FAULT_KINDS = [
  'http-5xx',
  'timeout',
  'reset',
  'refused',
  'invalid-json',
  'html-login',
  'error',
  'sub-error',
  'bad-shape',
  'auth',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultInput {
  kind: FaultKind;
  /** How many API requests get this fault; -1 = until cleared. Default 1. Ignored by `refused`. */
  count?: number;
  /** `http-5xx` only: the status. Default 503. */
  status?: number;
  /** `sub-error`/`bad-shape` only: the sub-request method hit (e.g. "Live.getCounters"). Default: the first. */
  method?: string;
  /** `refused` only: how long the port stays closed, ms. Default 3000. */
  durationMs?: number;
}

export interface Fault extends Required<Omit<FaultInput, 'method'>> {
  method: string | undefined;
}

/** Matomo's answer to a refused token (HTTP 401). */
export const AUTH_ERROR_MESSAGE =
  'Unable to authenticate with the provided token. It is either invalid, expired or is not valid for this request.';

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
  return {
    kind: f.kind as FaultKind,
    count: count as number,
    status: status as number,
    durationMs: durationMs as number,
    method: f.method,
  };
}

/** Injected faults, consumed one per API request, first in first out. */
export class FaultQueue {
  private queue: Fault[] = [];

  add(fault: Fault): void {
    this.queue.push({ ...fault });
  }

  /** The fault for the next API request, if any, counting it as used. */
  take(): Fault | undefined {
    const head = this.queue[0];
    if (!head) return undefined;
    if (head.count > 0 && --head.count === 0) this.queue.shift();
    return head;
  }

  clear(): void {
    this.queue = [];
  }

  pending(): Fault[] {
    return this.queue.map((f) => ({ ...f }));
  }
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
