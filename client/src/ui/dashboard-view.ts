import type { DaySummary, LiveVisit, Snapshot } from '@matomo-live/protocol';
import type { StatusEvent } from '../live-client';
import { formatCount, siteTimeOfDay, statusClass, statusText, timeOfDay } from './format';
import { project } from './projection';

const SVG_NS = 'http://www.w3.org/2000/svg';
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

  constructor(private readonly doc: Document) {
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
  }

  showStatus(status: StatusEvent): void {
    const element = this.byId('status');
    element.className = `status ${statusClass(status.state)}`;
    this.byId('status-text').textContent = statusText(status);
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
      this.showDots(snapshot.visits_live);
    }
    // One clock on the whole page: the site's, as Matomo's visit times are (never the browser's zone or 12-hour format).
    const clock = siteTimeOfDay(snapshot.updated_at, snapshot.timezone);
    const updated = this.byId('updated');
    updated.textContent = `Updated ${clock.time} (${clock.zone})`;
    updated.title = `snapshot #${snapshot.seq}, ${snapshot.updated_at}`;
    this.byId('days-window').textContent = `calendar days, ${clock.zone}`;
    this.byId('visits-window').textContent = clock.zone;
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
      const key = `${visit.lastActionUtc || visit.lastActionDateTime}|${visit.city}|${visit.latitude}|${visit.longitude}`;
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

  private showDots(visits: LiveVisit[]): void {
    const group = this.byId('map-dots');
    const shapes: SVGElement[] = [];
    // Oldest first so the latest visit is drawn on top.
    visits
      .map((visit, index) => ({ visit, index, point: project(visit.latitude, visit.longitude) }))
      .reverse()
      .forEach(({ visit, index, point }) => {
        if (!point) return;
        const latest = index === 0;
        if (latest) shapes.push(this.circle(point.x, point.y, 5, 'visit-halo'));
        const dot = this.circle(point.x, point.y, latest ? 2.6 : 2, latest ? 'visit-dot visit-dot--latest' : 'visit-dot');
        const title = this.doc.createElementNS(SVG_NS, 'title');
        title.textContent = [visit.city, visit.country].filter(Boolean).join(', ');
        dot.append(title);
        shapes.push(dot);
      });
    group.replaceChildren(...shapes);
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

  private circle(cx: number, cy: number, r: number, className: string): SVGElement {
    const circle = this.doc.createElementNS(SVG_NS, 'circle');
    circle.setAttribute('cx', String(cx));
    circle.setAttribute('cy', String(cy));
    circle.setAttribute('r', String(r));
    circle.setAttribute('class', className);
    return circle;
  }

  private byId(id: string): HTMLElement {
    const element = this.doc.getElementById(id);
    if (!element) throw new Error(`dashboard markup lacks #${id}`);
    return element;
  }
}
