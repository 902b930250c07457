import type { LiveVisit } from '@matomo-live/protocol';
import type { VisitRow } from './matomo-answers';

/**
 * The snapshot's `visits_live` without asking Matomo for the latest visits on
 * every tick: that query sorts one to two days of a site's visits to keep
 * five (docs/POLLER.md, "Matomo-side cost"). It is read in full now and then
 * (LIVE_REFRESH_INTERVAL, a new leader, a cursor catching up), and between,
 * every row the incremental fetch returns updates it.
 *
 * It mirrors that query: the `limit` rows with the latest last action
 * (ties by the larger idVisit), of Matomo's window for `date=today` — from
 * the site's midnight of the day before today in UTC — and only then the
 * visits the options keep (so a visit without location takes a place and
 * shows nothing, as before).
 */
export class LatestVisits {
  private rows: VisitRow[] = [];
  /** Read in full at least once since the poller (re)started leading the site. */
  seeded = false;

  constructor(private readonly limit: number) {}

  /** Replaces everything with a full read (the latest-visits query's answer). */
  seed(rows: readonly VisitRow[]): void {
    this.rows = sortNewestFirst([...rows]).slice(0, this.limit);
    this.seeded = true;
  }

  /** Folds in rows of the incremental fetch: a visit seen again replaces its older row. */
  merge(rows: readonly VisitRow[]): void {
    if (rows.length === 0) return;
    const byId = new Map(this.rows.map((row) => [row.idVisit, row]));
    for (const row of rows) {
      const known = byId.get(row.idVisit);
      if (!known || row.lastActionTimestamp >= known.lastActionTimestamp) byId.set(row.idVisit, row);
    }
    this.rows = sortNewestFirst([...byId.values()]).slice(0, this.limit);
  }

  /** Drops rows whose last action is before `fromS` (Matomo's window start), as the full query would. */
  dropBefore(fromS: number): void {
    this.rows = this.rows.filter((row) => row.lastActionTimestamp >= fromS);
  }

  /** Forgets everything: the next snapshot waits for a full read. */
  clear(): void {
    this.rows = [];
    this.seeded = false;
  }

  /** The visits as published, newest first. */
  visits(): LiveVisit[] {
    return this.rows.flatMap((row) => (row.visit ? [row.visit] : []));
  }
}

function sortNewestFirst(rows: VisitRow[]): VisitRow[] {
  return rows.sort((a, b) => b.lastActionTimestamp - a.lastActionTimestamp || b.idVisit - a.idVisit);
}
