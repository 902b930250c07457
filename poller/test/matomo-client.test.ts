import { Agent } from 'undici';
import { startMatomoSim, type FaultInput, type MatomoSim } from '@matomo-live/matomo-sim';
import { buildBulkRequest } from '../src/bulk-request';
import { isAuthRefusal, isIpBlocked, MatomoRequestError, postBulkRequest, type MatomoFailureKind } from '../src/matomo-client';

const TOKEN = 'client-test-token';
const AUTH_TEXT = 'Unable to authenticate with the provided token. It is either invalid or expired.';
const NOW = Date.parse('2026-11-29T11:42:35Z');
let sim: MatomoSim;
let dispatcher: Agent;

beforeEach(async () => {
  sim = await startMatomoSim({ token: TOKEN, now: () => NOW });
  dispatcher = new Agent({ keepAliveTimeout: 10_000 });
});
afterEach(async () => {
  await dispatcher.close();
  await sim.close();
});

const bulk = (token = TOKEN) => buildBulkRequest([{ siteId: 1, liveLimit: 5, withVisits: true, withSite: true, withSummary: true }], token);
const post = (token?: string, timeoutMs = 2000) => postBulkRequest(bulk(token), { baseUrl: sim.url, dispatcher, timeoutMs });

async function failureKind(promise: Promise<unknown>): Promise<MatomoFailureKind> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof MatomoRequestError)) throw new Error(`expected a MatomoRequestError, got ${String(error)}`);
  return error.kind;
}

describe('postBulkRequest', () => {
  it("answers the array and Matomo's clock, one POST with the token in the body only", async () => {
    const { answers, serverDateMs } = await post();
    expect(answers).toHaveLength(4);
    expect(serverDateMs).toBe(NOW);
    const stats = sim.stats();
    expect(stats).toMatchObject({ requests: 1, bulkRequests: 1, tokenInUrl: 0 });
    expect(stats.recent[0]).toMatchObject({
      httpMethod: 'POST',
      url: '/index.php?module=API&method=API.getBulkRequest&format=json',
      tokenInBody: true,
    });
    expect(stats.recent[0]!.body).not.toContain('module=');
  });

  it('reuses keep-alive connections', async () => {
    let connections = 0;
    dispatcher.on('connect', () => connections++);
    for (let i = 0; i < 6; i++) await post();
    expect(connections).toBeGreaterThan(0);
    expect(connections).toBeLessThanOrEqual(2);
  });

  it.each<[FaultInput, MatomoFailureKind]>([
    [{ kind: 'http-5xx' }, 'http'],
    [{ kind: 'http-5xx', status: 502 }, 'http'],
    [{ kind: 'invalid-json' }, 'invalid-json'],
    [{ kind: 'html-login' }, 'not-json'],
    [{ kind: 'error' }, 'api-error'],
    [{ kind: 'auth' }, 'auth'],
    [{ kind: 'auth-blocked' }, 'auth-blocked'],
    [{ kind: 'reset' }, 'network'],
  ])('classifies %j as %s', async (fault, kind) => {
    sim.injectFault(fault);
    expect(await failureKind(post())).toBe(kind);
  });

  it('classifies a hung request as timeout', async () => {
    sim.injectFault({ kind: 'timeout' });
    expect(await failureKind(post(TOKEN, 300))).toBe('timeout');
  });

  it('classifies a closed port as network', async () => {
    sim.injectFault({ kind: 'refused', durationMs: 60_000 });
    expect(await failureKind(post())).toBe('network');
  });

  it('classifies a wrong token as auth (a JSON 401, since format is in the URL)', async () => {
    expect(await failureKind(post('wrong'))).toBe('auth');
  });

  it('classifies a blocked IP as auth-blocked, even with the right token', async () => {
    for (let i = 0; i < 21; i++) expect(await failureKind(post('wrong'))).toBe('auth');
    const error = await post().catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'auth-blocked', message: expect.stringContaining('Too many failed logins') });
  });

  it('passes sub-request errors through at their position (the poller judges them)', async () => {
    sim.injectFault({ kind: 'sub-error', method: 'Live.getCounters' });
    const { answers } = await post();
    expect(answers[1]).toMatchObject({ result: 'error' });
  });

  it("recognises Matomo's token refusal messages and nothing else", () => {
    expect(
      isAuthRefusal('Unable to authenticate with the provided token. It is either invalid, expired or is not valid for this request.'),
    ).toBe(true);
    expect(isAuthRefusal("You can't access this resource as it requires 'view' access for the website id = 1.")).toBe(true);
    expect(isAuthRefusal('Mysql error: SQLSTATE[HY000] [2002] Connection refused')).toBe(false);
    expect(isIpBlocked('Too many failed logins. Please wait and try logging in again later.')).toBe(true);
    expect(isIpBlocked(AUTH_TEXT)).toBe(false);
  });
});
