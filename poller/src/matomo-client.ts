import { request, type Dispatcher } from 'undici';
import type { BulkRequest } from './bulk-request';

/**
 * Why a Matomo request failed. `auth` and `auth-blocked` are the kinds that
 * slow polling to one attempt per 5 minutes (Matomo blocks an IP after 20
 * failed logins in an hour); every other kind is retried within seconds.
 */
export type MatomoFailureKind =
  /** HTTP 401, or an error body saying the token is refused. */
  | 'auth'
  /** HTTP 500 "Too many failed logins": Matomo's brute-force detection blocks this IP, whatever the token. */
  | 'auth-blocked'
  /** Any other non-200 status. */
  | 'http'
  /** No answer within MATOMO_TIMEOUT. */
  | 'timeout'
  /** Refused, reset, DNS, TLS… */
  | 'network'
  /** A body that is not JSON (an HTML login page, a proxy error page). */
  | 'not-json'
  /** A JSON content type with a body that does not parse. */
  | 'invalid-json'
  /** `{"result":"error"}` for the whole request or one sub-request. */
  | 'api-error'
  /** Valid JSON of an unexpected shape. */
  | 'shape';

export class MatomoRequestError extends Error {
  constructor(
    readonly kind: MatomoFailureKind,
    message: string,
  ) {
    super(message);
    this.name = 'MatomoRequestError';
  }
}

/** Matomo's words for a refused token (with HTTP 200 on some setups). */
const AUTH_REFUSAL = /unable to authenticate|token_auth.*(invalid|not valid)|you can't access this resource as it requires.*(view|access)/i;

/** Matomo's words when brute-force detection blocks the client's IP (HTTP 500, JSON or its HTML error page). */
const IP_BLOCKED = /too many failed logins/i;

export function isAuthRefusal(message: string): boolean {
  return AUTH_REFUSAL.test(message);
}

export function isIpBlocked(message: string): boolean {
  return IP_BLOCKED.test(message);
}

/** One bulk answer: the array, and Matomo's clock from the HTTP Date header (ms, whole seconds) when it sent one. */
export interface BulkAnswer {
  answers: unknown[];
  serverDateMs: number | undefined;
}

/** Answers larger than this are refused: five visits and three days are a few KiB. */
const MAX_ANSWER_BYTES = 8 << 20;

export interface MatomoClientOptions {
  /** Matomo base URL ending in "/". */
  baseUrl: string;
  /** undici dispatcher (keep-alive pool); tests inject theirs. */
  dispatcher: Dispatcher;
  /** Give up on a request after this long, ms. */
  timeoutMs: number;
}

/** Posts one bulk request; resolves with the answer array or throws MatomoRequestError. */
export async function postBulkRequest(bulk: BulkRequest, options: MatomoClientOptions, signal?: AbortSignal): Promise<BulkAnswer> {
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const text = await fetchText(bulk, options, signal ? AbortSignal.any([signal, timeout]) : timeout, timeout);
  let answer: unknown;
  try {
    answer = JSON.parse(text.body);
  } catch {
    const kind = /^\s*</.test(text.body) || !/json/i.test(text.contentType) ? 'not-json' : 'invalid-json';
    if (isIpBlocked(text.body))
      throw new MatomoRequestError('auth-blocked', `HTTP ${text.status}: Matomo blocks this IP (too many failed logins)`);
    if (text.status === 401) throw new MatomoRequestError('auth', 'HTTP 401 with a non-JSON body');
    if (text.status !== 200) throw new MatomoRequestError('http', `HTTP ${text.status}`);
    throw new MatomoRequestError(
      kind,
      kind === 'not-json' ? `not JSON (${text.contentType || 'no content type'}, starts "${snippet(text.body)}")` : 'invalid JSON',
    );
  }
  const error = errorMessage(answer);
  if (error !== undefined && isIpBlocked(error)) throw new MatomoRequestError('auth-blocked', `HTTP ${text.status}: ${error}`);
  if (text.status === 401 || (error !== undefined && isAuthRefusal(error))) {
    throw new MatomoRequestError('auth', `token refused (HTTP ${text.status}): ${error ?? 'no message'}`);
  }
  if (text.status !== 200) throw new MatomoRequestError('http', `HTTP ${text.status}${error ? `: ${error}` : ''}`);
  if (error !== undefined) throw new MatomoRequestError('api-error', `Matomo error: ${error}`);
  if (!Array.isArray(answer) || answer.length !== bulk.size) {
    throw new MatomoRequestError(
      'shape',
      `expected an array of ${bulk.size} answers, got ${Array.isArray(answer) ? `${answer.length}` : typeof answer}`,
    );
  }
  const serverDateMs = text.date === undefined ? Number.NaN : Date.parse(text.date);
  return { answers: answer, serverDateMs: Number.isNaN(serverDateMs) ? undefined : serverDateMs };
}

/** The message of a `{"result":"error"}` body, else undefined. */
export function errorMessage(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const v = value as { result?: unknown; message?: unknown };
  if (v.result !== 'error') return undefined;
  return typeof v.message === 'string' ? v.message : 'no message';
}

async function fetchText(
  bulk: BulkRequest,
  { baseUrl, dispatcher }: MatomoClientOptions,
  signal: AbortSignal,
  timeout: AbortSignal,
): Promise<{ status: number; contentType: string; body: string; date: string | undefined }> {
  try {
    // index.php explicitly: a bare directory URL may redirect, and a redirected POST loses its body.
    // module/method/format in the URL: Matomo then answers JSON even for a refused token (with format only in
    // the body, a 401 or 500 comes as its HTML error page). The token stays in the body.
    const res = await request(new URL(`index.php?${bulk.query}`, baseUrl), {
      method: 'POST',
      dispatcher,
      signal,
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: bulk.body,
    });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_ANSWER_BYTES) {
        res.body.destroy();
        throw new MatomoRequestError('shape', `answer larger than ${MAX_ANSWER_BYTES} bytes`);
      }
      chunks.push(chunk);
    }
    const contentType = res.headers['content-type'];
    const date = res.headers.date;
    return {
      status: res.statusCode,
      contentType: String(contentType ?? ''),
      body: Buffer.concat(chunks).toString('utf8'),
      date: typeof date === 'string' ? date : undefined,
    };
  } catch (error) {
    if (error instanceof MatomoRequestError) throw error;
    if (timeout.aborted) throw new MatomoRequestError('timeout', 'no answer in time');
    const e = error as Error & { code?: string; cause?: { code?: string } };
    throw new MatomoRequestError('network', `${e.code ?? e.cause?.code ?? e.name}: ${e.message}`);
  }
}

function snippet(body: string): string {
  return body.trim().slice(0, 40).replace(/\s+/g, ' ');
}
