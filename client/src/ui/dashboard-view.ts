import type { DaySummary, EventVisit, LiveVisit, Snapshot, StatusMessage } from '@matomo-live/protocol';
import type { StatusEvent } from '../live-client';
import { formatCount, siteTimeOfDay, statusClass, statusText, timeOfDay } from './format';
import { StaleBanner } from './stale-banner';
import { VisitMap, type VisitMapOptions } from './visit-map';

const DAYS = ['today', 'yesterday', 'day_before'] as const;
const DAY_LABELS: Record<(typeof DAYS)[number], string> = { today: 'Today', yesterday: 'Yesterday', day_before: 'Day before' };

/**
 * Writes snapshots and connection states into the page's static markup
 * (client/dashboard/index.html). Text only via textContent and SVG
 * attributes only: nothing from the wire is ever parsed as HTML, and the
 * strict CSP needs no inline styles.
 */
export class DashboardView {
  private lastVisitKeys = new Set<string>();
  private readonly map: VisitMap;
  /** Visit events arrived: from then on they alone draw the map. */
  private eventsSeen = false;
  private connection: StatusEvent = { state: 'connecting', attempt: 0 };
  /** The site's data is stale: the indicator says "Delayed" while connected, and the banner says why. */
  private delayed = false;
  private readSiteStatus: () => StatusMessage | undefined = () => undefined;
  private readonly banner: StaleBanner;

  constructor(
    private readonly doc: Document,
    mapOptions: VisitMapOptions = {},
  ) {
    this.map = new VisitMap(
      doc,
      { dots: this.byId('map-dots'), ripples: this.byId('map-ripples'), halo: this.byId('map-halo') },
      mapOptions,
    );
    const template = doc.getElementById('day-card') as HTMLTemplateElement | null;
    if (!template) throw new Error('dashboard markup lacks #day-card');
    for (const day of DAYS) {
      const card = (template.content.firstElementChild as HTMLElement).cloneNode(true) as HTMLElement;
      card.id = `day-${day}`;
      const heading = card.querySelector('h3') as HTMLElement;
      heading.id = `day-${day}-title`;
      card.setAttribute('aria-labelledby', heading.id);
      (card.querySelector('[data-field="label"]') as HTMLElement).textContent = DAY_LABELS[day];
      template.before(card);
    }
    this.banner = new StaleBanner({ banner: this.byId('stale-banner'), text: this.byId('stale-text') }, () => this.readSiteStatus(), {
      setInterval: (callback, ms) => setInterval(callback, ms),
      clearInterval: (handle) => clearInterval(handle as number),
    });
  }

  showStatus(status: StatusEvent): void {
    this.connection = status;
    this.showIndicator();
  }

  /** The site's freshness from `read` (the client's siteStatus; from now on when given): the banner and the indicator. */
  showSiteStatus(read?: () => StatusMessage | undefined): void {
    if (read) this.readSiteStatus = read;
    this.delayed = this.banner.update();
    this.showIndicator();
  }

  showTokenForm(visible: boolean): void {
    this.byId('token-form').hidden = !visible;
    if (visible) (this.byId('token-input') as HTMLInputElement).focus();
  }

  showSnapshot(snapshot: Snapshot): void {
    this.byId('site-label').textContent = `site ${snapshot.site}`;
    if (snapshot.summary) for (const day of DAYS) this.showDay(day, snapshot.summary[day]);
    if (snapshot.counters) {
      this.byId('counters-minutes').textContent = String(snapshot.counters.minutes);
      this.byId('counter-visits').textContent = formatCount(snapshot.counters.visits);
      this.byId('counter-actions').textContent = formatCount(snapshot.counters.actions);
      this.byId('counter-visitors').textContent = formatCount(snapshot.counters.visitors);
    }
    if (Array.isArray(snapshot.visits_live)) {
      this.showVisits(snapshot.visits_live);
      // Until visit events come (a gateway without them, or none yet), the snapshot's latest visits draw the map.
      if (!this.eventsSeen) for (const visit of snapshot.visits_live) this.map.add(snapshotKey(visit), visit, false);
    }
    // One clock on the whole page: the site's, as Matomo's visit times are (never the browser's zone or 12-hour format).
    const clock = siteTimeOfDay(snapshot.updated_at, snapshot.timezone);
    const updated = this.byId('updated');
    updated.textContent = `Updated ${clock.time} (${clock.zone})`;
    updated.title = `snapshot #${snapshot.seq}, ${snapshot.updated_at}`;
    this.byId('days-window').textContent = `calendar days, ${clock.zone}`;
    this.byId('visits-window').textContent = clock.zone;
  }

  /** One visit event on the map: `animate` for a new visit, not for history drawn at start. */
  showVisit(visit: EventVisit, animate: boolean): void {
    this.eventsSeen = true;
    this.map.add(`v${visit.idVisit}`, visit, animate);
  }

  /** Removes dots older than the map's window. */
  pruneMap(): void {
    this.map.prune();
  }

  private showDay(day: (typeof DAYS)[number], summary: DaySummary | undefined): void {
    const card = this.byId(`day-${day}`);
    const set = (field: string, text: string) => {
      const element = card.querySelector(`[data-field="${field}"]`);
      if (element) element.textContent = text;
    };
    set('visits', formatCount(summary?.visits));
    set('time_spent', summary?.time_spent ?? '–');
    set('actions', formatCount(summary?.actions));
    set('date', summary?.date ?? '');
  }

  private showVisits(visits: LiveVisit[]): void {
    const body = this.byId('visits-body');
    const rows = visits.map((visit) => {
      const key = snapshotKey(visit);
      const row = this.doc.createElement('tr');
      if (this.lastVisitKeys.size > 0 && !this.lastVisitKeys.has(key)) row.className = 'fresh';
      const place = [visit.city || 'Unknown city', visit.country || visit.countryCode?.toUpperCase() || ''];
      const device = [[visit.browserName, visit.operatingSystem].filter(Boolean).join(', '), visit.source || 'Direct entry'];
      row.append(this.cell('time', [timeOfDay(visit.lastActionDateTime)]), this.cell('place', place), this.cell('device', device));
      return { key, row };
    });
    this.lastVisitKeys = new Set(rows.map((r) => r.key));
    if (rows.length === 0) {
      const row = this.doc.createElement('tr');
      row.className = 'empty';
      const cell = this.doc.createElement('td');
      cell.colSpan = 3;
      cell.textContent = 'No visits yet.';
      row.append(cell);
      body.replaceChildren(row);
    } else {
      body.replaceChildren(...rows.map((r) => r.row));
    }
  }

  /** A cell with a main line and, when given, a muted second line. */
  private cell(className: string, [main, detail]: string[]): HTMLTableCellElement {
    const cell = this.doc.createElement('td');
    cell.className = className;
    const first = this.doc.createElement('span');
    first.className = 'main';
    first.textContent = main ?? '';
    cell.append(first);
    if (detail !== undefined) {
      const second = this.doc.createElement('span');
      second.className = 'detail';
      second.textContent = detail;
      cell.append(second);
    }
    cell.title = [main, detail].filter(Boolean).join(' — ');
    return cell;
  }

  /** Connected but stale is "Delayed"; otherwise the connection's own state. */
  private showIndicator(): void {
    const delayed = this.delayed && this.connection.state === 'live';
    this.byId('status').className = `status ${delayed ? 'status--delayed' : statusClass(this.connection.state)}`;
    this.byId('status-text').textContent = delayed ? 'Delayed' : statusText(this.connection);
  }

  private byId(id: string): HTMLElement {
    const element = this.doc.getElementById(id);
    if (!element) throw new Error(`dashboard markup lacks #${id}`);
    return element;
  }
}

/** A snapshot's visit has no id: its time, place and coordinates tell it apart. */
function snapshotKey(visit: LiveVisit): string {
  return `${visit.lastActionUtc || visit.lastActionDateTime}|${visit.city}|${visit.latitude}|${visit.longitude}`;
}
