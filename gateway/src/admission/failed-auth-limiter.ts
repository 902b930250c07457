import { isIP } from 'node:net';

export interface FailedAuthLimiterOptions {
  /** Failed token attempts an address may make per window (FAILED_AUTH_PER_IP). */
  limit: number;
  /** Window length, ms. Default 60000. */
  windowMs?: number;
  /** Clock, ms. Default Date.now. */
  now?: () => number;
}

/**
 * Wrong tokens per client address. An address's window opens with its first
 * failure; once it has failed `limit` times in it, the address is refused
 * until the window ends — valid tokens included, or a guesser would learn
 * from the one answer that is not a refusal which guess was right. The
 * WebSocket upgrade and `/debug` share one limiter: a wrong token is a wrong
 * token whichever door it was tried at.
 *
 * IPv6 addresses count per /64: one host usually holds a whole /64 and could
 * otherwise draw a fresh address for every guess.
 */
export class FailedAuthLimiter {
  private readonly entries = new Map<string, { start: number; failures: number }>();
  private readonly limit: number;
  private readonly windowMs: number;
  private readonly now: () => number;
  private lastSweep: number;

  constructor({ limit, windowMs = 60_000, now = Date.now }: FailedAuthLimiterOptions) {
    this.limit = limit;
    this.windowMs = windowMs;
    this.now = now;
    this.lastSweep = now();
  }

  /** While the address is refused: the ms left of its window (at least 1). Otherwise undefined. */
  blockedFor(address: string): number | undefined {
    const entry = this.current(limitKey(address));
    if (entry === undefined || entry.failures < this.limit) return undefined;
    return Math.max(1, entry.start + this.windowMs - this.now());
  }

  /** Counts one failed attempt; true when this one reached the limit (the address is refused from now on). */
  fail(address: string): boolean {
    const key = limitKey(address);
    const entry = this.current(key) ?? { start: this.now(), failures: 0 };
    entry.failures += 1;
    this.entries.set(key, entry);
    return entry.failures === this.limit;
  }

  /** Addresses (IPv6: /64s) with failures in their current window. */
  get trackedAddresses(): number {
    this.sweep();
    return this.entries.size;
  }

  private current(key: string): { start: number; failures: number } | undefined {
    this.sweep();
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (this.now() - entry.start < this.windowMs) return entry;
    this.entries.delete(key);
    return undefined;
  }

  /** Drops ended windows, at most once per window: memory stays bounded by the addresses that failed within about two windows. */
  private sweep(): void {
    const t = this.now();
    if (t - this.lastSweep < this.windowMs) return;
    this.lastSweep = t;
    for (const [key, entry] of this.entries) if (t - entry.start >= this.windowMs) this.entries.delete(key);
  }
}

/** The key an address is limited by: IPv4 as is, IPv6 by its /64 ("2001:db8:0:1::/64"). */
export function limitKey(address: string): string {
  if (isIP(address) !== 6) return address;
  return `${expandIpv6(address).slice(0, 4).join(':')}::/64`;
}

/** "2001:db8::1" → the eight hextets, lower case, without leading zeros. */
function expandIpv6(address: string): string[] {
  const [head = '', tail] = address.toLowerCase().split('%', 1)[0]!.split('::');
  const parts = (text: string) => (text === '' ? [] : text.split(':'));
  const left = parts(head);
  const right = tail === undefined ? [] : parts(tail);
  // An embedded IPv4 tail ("::ffff:1.2.3.4") is two hextets; it only matters past the /64, so any two stand-ins do.
  const widen = (list: string[]) => list.flatMap((p) => (p.includes('.') ? ['0', '0'] : [p]));
  const l = widen(left);
  const r = widen(right);
  const middle = tail === undefined ? [] : Array.from({ length: 8 - l.length - r.length }, () => '0');
  return [...l, ...middle, ...r].map((h) => h.replace(/^0+(?=.)/, ''));
}
