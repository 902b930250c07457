import WebSocket from 'ws';
import type { ClientSession } from '../sessions/client-session';

/**
 * Picks the clients a rebalance moves: the oldest open connections (a Set
 * iterates in insertion order), never one already on its way out — so a
 * client that just arrived from another gateway is the last to move again.
 * Until their close completes, shed clients are `pending`: no longer this
 * gateway's in the fleet's counts.
 */
export class OldestFirstShedder {
  private readonly closing = new WeakSet<ClientSession>();
  private pendingCount = 0;

  /** @param close ends one session (with the rebalance hint). */
  constructor(
    private readonly sessions: ReadonlySet<ClientSession>,
    private readonly close: (session: ClientSession) => void,
  ) {}

  /** Closes up to `count` sessions; returns how many. */
  shed(count: number): number {
    let shed = 0;
    for (const session of this.sessions) {
      if (shed >= count) break;
      if (session.ws.readyState !== WebSocket.OPEN || this.closing.has(session)) continue;
      this.closing.add(session);
      this.pendingCount++;
      this.close(session);
      shed++;
    }
    return shed;
  }

  /** Shed sessions whose close has not completed yet. */
  get pending(): number {
    return this.pendingCount;
  }

  /** Call when a session is gone. */
  closed(session: ClientSession): void {
    if (this.closing.delete(session)) this.pendingCount--;
  }
}
