import { addDays, localDate, parseSiteTimezone } from '@matomo-live/shared';
import type { SimVisit, SimVisitInput, SiteInfo } from './sim-visit';
import { syntheticVisit } from './synthetic-visits';

/** A day's VisitsSummary metrics as Matomo archives them (raw numbers). */
export interface DayTotals {
  nb_uniq_visitors: number;
  nb_users: number;
  nb_visits: number;
  nb_actions: number;
  nb_visits_converted: number;
  bounce_count: number;
  sum_visit_length: number;
  max_actions: number;
}

/** `today`/`yesterday`/`day_before` (site-local) or explicit dates; null = a day without data (`[]`). */
export interface SummaryInput {
  siteId?: number;
  today?: Partial<DayTotals> | null;
  yesterday?: Partial<DayTotals> | null;
  day_before?: Partial<DayTotals> | null;
  dates?: Record<string, Partial<DayTotals> | null>;
}

export interface SiteInput {
  siteId: number;
  /** IANA name or "UTC+3"-style. Default: the simulator's timezone. */
  timezone?: string;
  name?: string;
}

/** A day without data, as Matomo answers it for a single date. */
export const EMPTY_DAY: Readonly<DayTotals> = {
  nb_uniq_visitors: 0,
  nb_users: 0,
  nb_visits: 0,
  nb_actions: 0,
  nb_visits_converted: 0,
  bounce_count: 0,
  sum_visit_length: 0,
  max_actions: 0,
};

/** Everything the simulated Matomo knows: sites, visits, daily totals. */
export class SimData {
  readonly sites = new Map<number, SiteInfo>();
  private visits: SimVisit[] = [];
  /** visitsOf() answers per site, built on demand; cleared whenever `visits` changes. */
  private readonly sortedBySite = new Map<number, readonly SimVisit[]>();
  private readonly days = new Map<string, DayTotals>();
  private nextVisitId = 1000;

  constructor(
    private readonly now: () => number,
    private readonly random: () => number,
    private readonly defaultTimezone: string,
  ) {}

  upsertSite({ siteId, timezone, name }: SiteInput): SiteInfo {
    if (!Number.isSafeInteger(siteId) || siteId < 1) throw new Error(`siteId must be a whole number ≥ 1, got ${siteId}`);
    const existing = this.sites.get(siteId);
    const tz = timezone ?? existing?.timezone ?? this.defaultTimezone;
    const site: SiteInfo = {
      idSite: siteId,
      name: name ?? existing?.name ?? `Demo site ${siteId}`,
      mainUrl: existing?.mainUrl ?? `https://site${siteId}.example.org/`,
      timezone: tz,
      zone: parseSiteTimezone(tz),
    };
    this.sites.set(siteId, site);
    return site;
  }

  site(siteId: number): SiteInfo | undefined {
    return this.sites.get(siteId);
  }

  /** Adds a visit whose last action is now (unless given) and counts it in that day's totals. */
  addVisit(input: SimVisitInput = {}): SimVisit {
    const { siteId = this.firstSiteId(), ...fields } = input;
    checkVisitInput(fields);
    const site = this.requireSite(siteId);
    const nowSeconds = Math.floor(this.now() / 1000);
    const base = syntheticVisit(this.random, fields.lastActionTimestamp ?? nowSeconds, site.mainUrl);
    const merged = { ...base, ...definedOnly(fields) };
    if (fields.firstActionTimestamp === undefined) merged.firstActionTimestamp = merged.lastActionTimestamp - merged.visitDuration;
    const visit: SimVisit = { ...merged, idSite: siteId, idVisit: this.nextVisitId++ };
    this.visits.push(visit);
    this.sortedBySite.delete(siteId);
    // Matomo files a visit under the day of its last action (and splits visits at the site's midnight).
    const date = localDate(visit.lastActionTimestamp * 1000, site.zone);
    const day = { ...(this.days.get(dayKey(siteId, date)) ?? EMPTY_DAY) };
    const knownVisitor = this.visits.some(
      (v) =>
        v !== visit &&
        v.idSite === siteId &&
        v.visitorId === visit.visitorId &&
        localDate(v.lastActionTimestamp * 1000, site.zone) === date,
    );
    day.nb_visits += 1;
    day.nb_uniq_visitors += knownVisitor ? 0 : 1;
    day.nb_actions += visit.actions;
    day.nb_visits_converted += visit.converted ? 1 : 0;
    day.bounce_count += visit.actions === 1 ? 1 : 0;
    day.sum_visit_length += visit.visitDuration;
    day.max_actions = Math.max(day.max_actions, visit.actions);
    this.days.set(dayKey(siteId, date), day);
    return visit;
  }

  /**
   * What Matomo's tracker does when a visit gets another hit now (or at
   * `lastActionTimestamp`): `actions` more actions (default 1) and a later last
   * action; `actions: 0` is a content impression (the last action moves, the
   * count does not). The day's totals follow. Returns the updated visit.
   */
  updateVisit(idVisit: number, { actions = 1, lastActionTimestamp }: { actions?: number; lastActionTimestamp?: number } = {}): SimVisit {
    const index = this.visits.findIndex((v) => v.idVisit === idVisit);
    const visit = this.visits[index];
    if (!visit) throw new Error(`unknown visit ${idVisit}`);
    if (!Number.isSafeInteger(actions) || actions < 0) throw new Error(`actions must be a whole number ≥ 0, got ${actions}`);
    const at = lastActionTimestamp ?? Math.floor(this.now() / 1000);
    if (!Number.isSafeInteger(at) || at < visit.lastActionTimestamp)
      throw new Error(
        `lastActionTimestamp must be a Unix time in seconds not before the visit's last action (${visit.lastActionTimestamp})`,
      );
    const updated: SimVisit = {
      ...visit,
      actions: visit.actions + actions,
      lastActionTimestamp: at,
      visitDuration: at - visit.firstActionTimestamp,
    };
    this.visits[index] = updated;
    this.sortedBySite.delete(visit.idSite);
    const site = this.requireSite(visit.idSite);
    const date = localDate(at * 1000, site.zone);
    const day = this.days.get(dayKey(visit.idSite, date));
    if (day) {
      day.nb_actions += actions;
      day.sum_visit_length += updated.visitDuration - visit.visitDuration;
      day.max_actions = Math.max(day.max_actions, updated.actions);
      if (visit.actions === 1 && updated.actions > 1) day.bounce_count = Math.max(0, day.bounce_count - 1);
    }
    return updated;
  }

  /** Replaces whole days' totals; metrics not given are 0; null makes the day empty. */
  setSummary(input: SummaryInput): void {
    const siteId = input.siteId ?? this.firstSiteId();
    const site = this.requireSite(siteId);
    const today = localDate(this.now(), site.zone);
    const byDate: Record<string, Partial<DayTotals> | null> = { ...input.dates };
    if (input.today !== undefined) byDate[today] = input.today;
    if (input.yesterday !== undefined) byDate[addDays(today, -1)] = input.yesterday;
    if (input.day_before !== undefined) byDate[addDays(today, -2)] = input.day_before;
    for (const [date, totals] of Object.entries(byDate)) {
      if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) throw new Error(`"${date}" is not a YYYY-MM-DD date`);
      if (totals === null) {
        this.days.delete(dayKey(siteId, date));
        continue;
      }
      const day: DayTotals = { ...EMPTY_DAY };
      for (const key of Object.keys(EMPTY_DAY) as Array<keyof DayTotals>) {
        const value = totals[key];
        if (value === undefined) continue;
        if (!Number.isSafeInteger(value) || value < 0) throw new Error(`${key} must be a whole number ≥ 0, got ${JSON.stringify(value)}`);
        day[key] = value;
      }
      if (totals.nb_uniq_visitors === undefined) day.nb_uniq_visitors = day.nb_visits;
      if (totals.nb_actions === undefined) day.nb_actions = day.nb_visits;
      this.days.set(dayKey(siteId, date), day);
    }
  }

  /** A day's totals, or undefined when the day has no data (Matomo answers `[]`). */
  day(siteId: number, date: string): DayTotals | undefined {
    const day = this.days.get(dayKey(siteId, date));
    return day && day.nb_visits > 0 ? day : undefined;
  }

  /** Visits of a site, most recent last action first (Matomo's order). Sorted once per change of the visits. */
  visitsOf(siteId: number): readonly SimVisit[] {
    let sorted = this.sortedBySite.get(siteId);
    if (sorted === undefined) {
      sorted = this.visits
        .filter((v) => v.idSite === siteId)
        .sort((a, b) => b.lastActionTimestamp - a.lastActionTimestamp || b.idVisit - a.idVisit);
      this.sortedBySite.set(siteId, sorted);
    }
    return sorted;
  }

  /** Visits of a site whose last action is after `afterSeconds` (Unix), in no particular order: for answers that only count. */
  visitsAfter(siteId: number, afterSeconds: number): SimVisit[] {
    return this.visits.filter((v) => v.idSite === siteId && v.lastActionTimestamp > afterSeconds);
  }

  /** Forgets visits and totals (sites stay). */
  clear(): void {
    this.visits = [];
    this.sortedBySite.clear();
    this.days.clear();
  }

  /** Drops visits older than `maxAgeSeconds`, so a long-running demo stays small. */
  prune(maxAgeSeconds: number): void {
    const cutoff = Math.floor(this.now() / 1000) - maxAgeSeconds;
    const kept = this.visits.filter((v) => v.lastActionTimestamp >= cutoff);
    if (kept.length === this.visits.length) return;
    this.visits = kept;
    this.sortedBySite.clear();
  }

  firstSiteId(): number {
    const first = this.sites.keys().next();
    if (first.done) throw new Error('the simulator has no site');
    return first.value;
  }

  private requireSite(siteId: number): SiteInfo {
    const site = this.sites.get(siteId);
    if (!site) throw new Error(`unknown site ${siteId}; known: ${[...this.sites.keys()].join(', ')}`);
    return site;
  }
}

function dayKey(siteId: number, date: string): string {
  return `${siteId}/${date}`;
}

/** `value` without its undefined fields, so spreading it keeps defaults. */
export function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

const NUMERIC_FIELDS = ['firstActionTimestamp', 'lastActionTimestamp', 'actions', 'visitDuration'] as const;

/** Rejects wrongly typed fields now, instead of failing later while answering the API. */
function checkVisitInput(fields: SimVisitInput): void {
  for (const key of NUMERIC_FIELDS) {
    const v = fields[key];
    if (v !== undefined && (!Number.isSafeInteger(v) || v < 0)) throw new Error(`${key} must be a whole number ≥ 0`);
  }
  for (const key of ['latitude', 'longitude'] as const) {
    const v = fields[key];
    if (v !== undefined && v !== null && (typeof v !== 'number' || !Number.isFinite(v))) throw new Error(`${key} must be a number or null`);
  }
  for (const [key, v] of Object.entries(fields)) {
    if (v === undefined || (NUMERIC_FIELDS as readonly string[]).includes(key) || key === 'latitude' || key === 'longitude') continue;
    if (
      key === 'converted' ? typeof v !== 'boolean' : key === 'referrerUrl' ? v !== null && typeof v !== 'string' : typeof v !== 'string'
    ) {
      throw new Error(`${key} has the wrong type`);
    }
  }
}
