import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import type { Clock } from '@matomo-live/protocol';
import { capturedLogger } from '@matomo-live/test-support/logger';
import {
  JWKS_DEFAULT_MAX_AGE_MS,
  JWKS_MAX_MAX_AGE_MS,
  JWKS_MIN_MAX_AGE_MS,
  JWKS_RETRY_MS,
  jwksMaxAgeMs,
  JwksUrlSource,
  type JwksDocument,
} from '../../src/admission/jwks-url';

/** Timers that fire only when the test moves the time. */
class ManualClock implements Clock {
  time = 1_000_000;
  private next = 0;
  readonly timers = new Map<number, { at: number; fn: () => void }>();
  now = () => this.time;
  setTimeout = (fn: () => void, ms: number) => {
    this.timers.set(++this.next, { at: this.time + ms, fn });
    return this.next;
  };
  clearTimeout = (handle: unknown) => void this.timers.delete(handle as number);
  advance(ms: number): void {
    this.time += ms;
    for (const [id, timer] of [...this.timers]) {
      if (timer.at > this.time) continue;
      this.timers.delete(id);
      timer.fn();
    }
  }
}

/** A real identity provider on loopback: serves `body` with `cacheControl`, counts requests. */
async function provider(): Promise<{
  url: string;
  requests: () => number;
  set(body: string, status?: number, cacheControl?: string): void;
  close(): Promise<void>;
}> {
  let body = '';
  let status = 200;
  let cacheControl: string | undefined;
  let requests = 0;
  const server: Server = createServer((_req, res) => {
    requests += 1;
    res.writeHead(status, { 'content-type': 'application/json', ...(cacheControl ? { 'cache-control': cacheControl } : {}) });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`,
    requests: () => requests,
    set(next, nextStatus = 200, nextCache) {
      body = next;
      status = nextStatus;
      cacheControl = nextCache;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function keySet(...kids: string[]): Promise<string> {
  const keys = await Promise.all(
    kids.map(async (kid) => ({
      ...(await exportJWK((await generateKeyPair('ES256', { extractable: true })).publicKey)),
      kid,
      alg: 'ES256',
    })),
  );
  return JSON.stringify({ keys });
}

const kids = (jwks: JwksDocument | undefined) => jwks?.keys.map((k) => (k as { kid: string }).kid);

describe('jwksMaxAgeMs', () => {
  it('reads max-age within 1 min … 24 h; no max-age, no-cache or no-store: the default', () => {
    expect(jwksMaxAgeMs('public, max-age=600')).toBe(600_000);
    expect(jwksMaxAgeMs('max-age=5')).toBe(JWKS_MIN_MAX_AGE_MS);
    expect(jwksMaxAgeMs('max-age=9999999')).toBe(JWKS_MAX_MAX_AGE_MS);
    expect(jwksMaxAgeMs(null)).toBe(JWKS_DEFAULT_MAX_AGE_MS);
    expect(jwksMaxAgeMs('no-store, max-age=600')).toBe(JWKS_DEFAULT_MAX_AGE_MS);
    expect(jwksMaxAgeMs('s-maxage=600')).toBe(JWKS_DEFAULT_MAX_AGE_MS);
  });
});

describe('JwksUrlSource (a real HTTP server)', () => {
  let idp: Awaited<ReturnType<typeof provider>>;
  beforeEach(async () => {
    idp = await provider();
  });
  afterEach(async () => {
    await idp.close();
  });

  function source(clock: ManualClock, changes: JwksDocument[] = [], results: string[] = []) {
    const { logger, lines } = capturedLogger();
    const jwks = new JwksUrlSource({
      url: idp.url,
      logger,
      clock,
      onChange: (doc) => changes.push(doc),
      onFetched: (result) => results.push(result),
    });
    return { jwks, lines };
  }

  it('fetches at start and again when max-age runs out; an unchanged set is not announced', async () => {
    const clock = new ManualClock();
    idp.set(await keySet('a'), 200, 'max-age=120');
    const changes: JwksDocument[] = [];
    const results: string[] = [];
    const { jwks } = source(clock, changes, results);
    await jwks.start();
    expect(kids(jwks.current)).toEqual(['a']);
    expect(idp.requests()).toBe(1);
    clock.advance(119_000);
    expect(idp.requests()).toBe(1);
    clock.advance(1000);
    await waitUntil(() => results.length === 2);
    expect(results).toEqual(['applied', 'unchanged']);
    expect(changes).toHaveLength(1);
    jwks.stop();
  });

  it('an unknown kid fetches at most once per 5 s, concurrent callers sharing the fetch', async () => {
    const clock = new ManualClock();
    idp.set(await keySet('a'));
    const { jwks } = source(clock);
    await jwks.start();
    idp.set(await keySet('a', 'b'));
    const [first, second] = await Promise.all([jwks.refresh('unknown-kid'), jwks.refresh('unknown-kid')]);
    expect([first, second]).toEqual([true, true]);
    expect(idp.requests()).toBe(2);
    expect(jwks.hasKid('b')).toBe(true);
    expect(await jwks.refresh('unknown-kid')).toBe(false);
    expect(idp.requests()).toBe(2);
    clock.advance(5000);
    idp.set(await keySet('c'));
    expect(await jwks.refresh('unknown-kid')).toBe(true);
    expect(kids(jwks.current)).toEqual(['c']);
    expect(idp.requests()).toBe(3);
    jwks.stop();
  });

  it('a failing provider keeps the last good set, logs once per streak and retries', async () => {
    const clock = new ManualClock();
    idp.set(await keySet('a'));
    const results: string[] = [];
    const { jwks, lines } = source(clock, [], results);
    await jwks.start();
    idp.set('oops', 500);
    expect(await jwks.refresh('signal')).toBe(false);
    idp.set('{"keys": []}');
    expect(await jwks.refresh('signal')).toBe(false);
    expect(kids(jwks.current)).toEqual(['a']);
    expect(results).toEqual(['applied', 'failed', 'failed']);
    expect(lines().filter((l) => l.msg === 'JWKS fetch failed; keeping the last good key set')).toHaveLength(1);
    idp.set(await keySet('d'));
    clock.advance(JWKS_RETRY_MS);
    await waitUntil(() => results.length === 4);
    expect(kids(jwks.current)).toEqual(['d']);
    expect(lines().some((l) => l.msg === 'JWKS fetch works again')).toBe(true);
    jwks.stop();
  });

  it('a set the consumer cannot use is not adopted', async () => {
    const clock = new ManualClock();
    idp.set(await keySet('a'));
    const { logger } = capturedLogger();
    let refuse = false;
    const jwks = new JwksUrlSource({
      url: idp.url,
      logger,
      clock,
      onChange: () => {
        if (refuse) throw new Error('bad key');
      },
    });
    await jwks.start();
    refuse = true;
    idp.set(await keySet('z'));
    expect(await jwks.refresh('signal')).toBe(false);
    expect(kids(jwks.current)).toEqual(['a']);
    jwks.stop();
  });

  it('start fails with one line naming JWT_JWKS_URL when the provider cannot be reached', async () => {
    const clock = new ManualClock();
    const url = idp.url;
    await idp.close();
    idp = await provider(); // afterEach closes this one
    const { logger } = capturedLogger();
    const jwks = new JwksUrlSource({ url, logger, clock, onChange: () => undefined });
    await expect(jwks.start()).rejects.toThrow(
      /^JWT_JWKS_URL: cannot fetch the key set from http:\/\/127\.0\.0\.1:\d+\/jwks\.json \(ECONNREFUSED\)$/,
    );
    jwks.stop();
  });
});

async function waitUntil(condition: () => boolean): Promise<void> {
  const { waitFor } = await import('@matomo-live/test-support/wait-for');
  await waitFor(condition, 'the fetch to finish', 5000);
}
