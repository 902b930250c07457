import { jitteredDelay } from '@matomo-live/protocol';

/**
 * Whether a WebSocket upgrade may go ahead, in two stages:
 *
 * - before the upgrade, HTTP 503 when this gateway should not take new
 *   clients at all — draining, never subscribed to Redis yet (it would serve
 *   nothing), or shedding clients to rebalance — so NGINX tries another
 *   replica (`proxy_next_upstream … http_503`; an upgrade GET is safe to
 *   retry) and Kubernetes' readiness says the same;
 * - after it, close 1013 with a reconnect hint when this gateway is over
 *   capacity: MAX_CONNECTIONS, or more new connections per second than
 *   ACCEPT_RATE. A 503 would only move such a storm to the next replica; the
 *   hint spreads it over time instead (AcceptPacer).
 */
export type UpgradeRefusal = 'draining' | 'not-ready' | 'rebalancing';

export interface AdmissionState {
  draining: boolean;
  /** The feed has been ready (subscribed) at least once, or a snapshot is there to send. */
  everReady: boolean;
  /** The rebalancer is shedding this gateway's clients and it is still well above its fair share. */
  shedding: boolean;
}

/** Why an upgrade is refused with HTTP 503 before it happens, or undefined to go on. */
export function refusalBeforeUpgrade({ draining, everReady, shedding }: AdmissionState): UpgradeRefusal | undefined {
  if (draining) return 'draining';
  if (!everReady) return 'not-ready';
  if (shedding) return 'rebalancing';
  return undefined;
}

/**
 * New connections per second, with a virtual queue for the excess: a client
 * over the rate gets the next free slot (one every 1000 / rate ms after the
 * last one handed out) as its reconnect hint, plus up to `jitterMs`, so a
 * storm of N refused clients comes back spread over N / rate seconds instead
 * of all at the next backoff.
 */
export class AcceptPacer {
  private tokens: number;
  private last: number;
  private queueEnd = 0;

  /**
   * @param rate connections per second (bursts of as many)
   * @param now clock, ms
   * @param jitterMs added to each slot, at most. Default 250.
   */
  constructor(
    private readonly rate: number,
    private readonly now: () => number,
    private readonly random: () => number = Math.random,
    private readonly jitterMs = 250,
  ) {
    this.tokens = rate;
    this.last = now();
  }

  /**
   * Whether take() would accept now; takes nothing. The gateway checks a
   * token only when its client would find room, and takes the slot only for a
   * valid one: wrong tokens never use up the rate of valid clients.
   */
  hasRoom(): boolean {
    return Math.min(this.rate, this.tokens + ((this.now() - this.last) / 1000) * this.rate) >= 1;
  }

  /** undefined: accept now. A number: refuse, and come back after this many ms. */
  take(): number | undefined {
    const t = this.now();
    this.tokens = Math.min(this.rate, this.tokens + ((t - this.last) / 1000) * this.rate);
    this.last = t;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return undefined;
    }
    this.queueEnd = Math.max(this.queueEnd, t) + 1000 / this.rate;
    return Math.ceil(this.queueEnd - t) + jitteredDelay(0, this.jitterMs, this.random);
  }
}

/** The hint for a client refused because this gateway is full: long enough for others (or this one) to make room. */
export function fullGatewayHintMs(random: () => number = Math.random): number {
  return jitteredDelay(1000, 5000, random);
}
