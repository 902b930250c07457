import { refreshDelay, TokenKeeper, tokenExpiry } from '@matomo-live/client';
import { ManualClock } from './support/manual-clock';

/** An unsigned JWT-shaped token: the client reads `exp`, it never verifies. */
function jwtWithExp(expSeconds: number | undefined, extra = ''): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${encode({ alg: 'HS256' })}.${encode(expSeconds === undefined ? { sites: [1] } : { exp: expSeconds, extra })}.sig`;
}

describe('tokenExpiry', () => {
  it('reads exp from a JWT payload (base64url, any padding), and nothing from other tokens', () => {
    expect(tokenExpiry(jwtWithExp(1_700_000_000))).toBe(1_700_000_000_000);
    for (const extra of ['', 'a', 'ab', 'é?>']) expect(tokenExpiry(jwtWithExp(42, extra))).toBe(42_000);
    expect(tokenExpiry(jwtWithExp(undefined))).toBeUndefined();
    expect(tokenExpiry('static-token')).toBeUndefined();
    expect(tokenExpiry('a.!!!.c')).toBeUndefined();
    expect(tokenExpiry(`x.${Buffer.from('{"exp":"soon"}').toString('base64url')}.y`)).toBeUndefined();
  });
});

describe('refreshDelay', () => {
  it('is 80 % of the remaining life, at the latest 5 s before exp, never negative', () => {
    expect(refreshDelay(100_000, 0)).toBe(80_000);
    expect(refreshDelay(20_000, 0)).toBe(15_000);
    expect(refreshDelay(4000, 0)).toBe(0);
    expect(refreshDelay(1000, 5000)).toBe(0);
  });
});

describe('TokenKeeper', () => {
  it('asks the provider for each connection and, while connected, before exp; each fresh token is sent as an auth message', async () => {
    const clock = new ManualClock();
    let issued = 0;
    // Each token lives 100 s from "now" on the test clock.
    const provider = () => jwtWithExp(Math.floor(clock.now() / 1000) + 100, String(++issued));
    const keeper = new TokenKeeper(provider, clock);
    expect(keeper.hasProvider).toBe(true);
    expect(tokenExpiry((await keeper.forConnection()) as string)).toBe(100_000);
    const sent: string[] = [];
    keeper.watch((text) => sent.push(text) > 0);
    expect(clock.pendingDelays()).toEqual([80_000]);
    clock.runNext();
    await waitForSent(sent, 1);
    const message = JSON.parse(sent[0] as string) as { type: string; token: string };
    expect(message.type).toBe('auth');
    expect(tokenExpiry(message.token)).toBe(180_000);
    expect(keeper.token).toBe(message.token);
    expect(clock.pendingDelays()).toEqual([80_000]);
    keeper.stop();
    expect(clock.pendingDelays()).toEqual([]);
  });

  it('retries a provider that fails or has nothing newer, at most once a second, and not after exp', async () => {
    const clock = new ManualClock();
    let answer: () => string = () => jwtWithExp(10);
    const keeper = new TokenKeeper(() => answer(), clock);
    await keeper.forConnection();
    const sent: string[] = [];
    keeper.watch((text) => sent.push(text) > 0);
    expect(clock.pendingDelays()).toEqual([5000]);
    clock.runNext();
    await flush();
    expect(clock.pendingDelays()).toEqual([1000]);
    answer = () => {
      throw new Error('auth server down');
    };
    clock.runNext();
    await flush();
    expect(clock.pendingDelays()).toEqual([1000]);
    answer = () => jwtWithExp(60);
    clock.runNext();
    await waitForSent(sent, 1);
    expect(tokenExpiry(JSON.parse(sent[0] as string).token)).toBe(60_000);
  });

  it('does nothing for a fixed token, and drops an answer for a connection that ended', async () => {
    const clock = new ManualClock();
    const fixed = new TokenKeeper(jwtWithExp(10), clock);
    fixed.watch(() => true);
    expect(clock.pendingDelays()).toEqual([]);
    expect(await fixed.forConnection()).toBe(jwtWithExp(10));

    let resolve: (token: string) => void = () => undefined;
    const slow = new TokenKeeper(() => new Promise<string>((r) => (resolve = r)), clock);
    const first = slow.forConnection();
    resolve(jwtWithExp(10));
    await first;
    const sent: string[] = [];
    slow.watch((text) => sent.push(text) > 0);
    clock.runNext();
    slow.stop();
    resolve(jwtWithExp(60));
    await flush();
    expect(sent).toEqual([]);
  });
});

async function flush(): Promise<void> {
  for (let i = 0; i < 5; i += 1) await Promise.resolve();
}

async function waitForSent(sent: string[], count: number): Promise<void> {
  for (let i = 0; i < 20 && sent.length < count; i += 1) await Promise.resolve();
  expect(sent).toHaveLength(count);
}
