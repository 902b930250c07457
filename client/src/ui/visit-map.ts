import type { LiveVisit } from '@matomo-live/protocol';
import { project, type MapPoint } from './projection';

const SVG_NS = 'http://www.w3.org/2000/svg';

/** Longer than the ripple's CSS animation (1.6 s). */
const RIPPLE_MAX_MS = 2500;

export interface VisitMapOptions {
  /** How long a dot stays (it fades over this time), ms. Default 30 min, as Matomo's real-time map. */
  windowMs?: number;
  /** Most dots on the map; the oldest go first. Default 500. */
  maxDots?: number;
  /** Most ripples animating at once (a burst pulses every dot, but ripples only this many). Default 24. */
  maxRipples?: number;
  /** Dots drawn per animation frame (a burst or a replay of hundreds is spread over frames). Default 25. */
  perFrame?: number;
  /** Clock, ms. Default Date.now. */
  now?: () => number;
  /** Schedules a frame. Default requestAnimationFrame. */
  requestFrame?: (callback: () => void) => void;
}

interface Dot {
  element: SVGCircleElement;
  /** The visit's last action, ms. */
  at: number;
  point: MapPoint;
}

interface Pending {
  key: string;
  visit: LiveVisit;
  point: MapPoint;
  at: number;
  animate: boolean;
}

/**
 * The map's dots, like Matomo's real-time map: one per visit of the last 30
 * minutes, fading with its age, a new visit drawn with a pulse and a ripple.
 *
 * Built for bursts on small devices: visits are queued and drawn once per
 * animation frame (a bounded number per frame), every animation is CSS
 * (the fade of each dot runs for its whole life with one negative delay, so
 * no script touches it again), dots live on an overlay SVG of their own so
 * their animations never repaint the world outline, and the dot count and
 * concurrent ripples are capped.
 */
export class VisitMap {
  private readonly dots = new Map<string, Dot>();
  private queue: Pending[] = [];
  private scheduled = false;
  private ripples = 0;
  private readonly windowMs: number;
  private readonly maxDots: number;
  private readonly maxRipples: number;
  private readonly perFrame: number;
  private readonly now: () => number;
  private readonly requestFrame: (callback: () => void) => void;

  constructor(
    private readonly doc: Document,
    private readonly layers: { dots: Element; ripples: Element; halo: Element },
    options: VisitMapOptions = {},
  ) {
    this.windowMs = options.windowMs ?? 30 * 60_000;
    this.maxDots = options.maxDots ?? 500;
    this.maxRipples = options.maxRipples ?? 24;
    this.perFrame = options.perFrame ?? 25;
    this.now = options.now ?? (() => Date.now());
    this.requestFrame = options.requestFrame ?? ((callback) => requestAnimationFrame(() => callback()));
  }

  /**
   * Puts a visit on the map (a visit seen again, `key` equal, moves its dot
   * to the front and restarts its age). `animate`: a new visit (pulse and
   * ripple), not history being drawn.
   */
  add(key: string, visit: LiveVisit, animate: boolean): void {
    const point = project(visit.latitude, visit.longitude);
    if (!point) return;
    const parsed = Date.parse(visit.lastActionUtc);
    const at = Number.isFinite(parsed) ? Math.min(parsed, this.now()) : this.now();
    if (at < this.now() - this.windowMs) return;
    this.queue.push({ key, visit, point, at, animate });
    // Frames stop in a hidden tab: keep only what could still be drawn.
    if (this.queue.length > this.maxDots) this.queue.splice(0, this.queue.length - this.maxDots);
    this.schedule();
  }

  /** Removes the dots older than the window (their fade has ended). */
  prune(): void {
    const oldest = this.now() - this.windowMs;
    for (const [key, dot] of this.dots) {
      if (dot.at >= oldest) continue;
      dot.element.remove();
      this.dots.delete(key);
    }
    this.placeHalo();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    this.requestFrame(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    const batch = this.queue.splice(0, this.perFrame);
    const dots = this.doc.createDocumentFragment();
    const ripples = this.doc.createDocumentFragment();
    const now = this.now();
    for (const { key, visit, point, at, animate } of batch) {
      this.dots.get(key)?.element.remove();
      this.dots.delete(key);
      const element = this.circle(point, 2.2, animate ? 'visit-dot visit-dot--new' : 'visit-dot');
      // The fade runs for the dot's whole life: a dot of age A starts A into it (CSSOM, which the CSP allows).
      if (!animate) element.style.animationDelay = `${-Math.round(now - at) / 1000}s`;
      const title = this.doc.createElementNS(SVG_NS, 'title');
      title.textContent = [visit.city, visit.country].filter(Boolean).join(', ');
      element.append(title);
      element.dataset.visit = key;
      dots.append(element);
      this.dots.set(key, { element, at, point });
      if (animate && this.ripples < this.maxRipples) ripples.append(this.ripple(point));
    }
    this.layers.dots.append(dots);
    this.layers.ripples.append(ripples);
    // Over the cap: the oldest dots go (the Map keeps insertion order, drawn order).
    for (const [key, dot] of this.dots) {
      if (this.dots.size <= this.maxDots) break;
      dot.element.remove();
      this.dots.delete(key);
    }
    this.placeHalo();
    if (this.queue.length > 0) this.schedule();
  }

  /** The newest dot is ringed. */
  private placeHalo(): void {
    let newest: Dot | undefined;
    for (const dot of this.dots.values()) newest = dot;
    const halo = this.layers.halo;
    if (!newest) {
      halo.setAttribute('display', 'none');
      return;
    }
    halo.setAttribute('cx', String(newest.point.x));
    halo.setAttribute('cy', String(newest.point.y));
    halo.removeAttribute('display');
  }

  private ripple(point: MapPoint): SVGCircleElement {
    const ripple = this.circle(point, 2.2, 'visit-ripple');
    this.ripples += 1;
    let done = false;
    const end = () => {
      if (done) return;
      done = true;
      ripple.remove();
      this.ripples -= 1;
    };
    ripple.addEventListener('animationend', end, { once: true });
    // Animations do not run in a hidden tab: the ripple goes anyway.
    setTimeout(end, RIPPLE_MAX_MS);
    return ripple;
  }

  private circle(point: MapPoint, r: number, className: string): SVGCircleElement {
    const circle = this.doc.createElementNS(SVG_NS, 'circle');
    circle.setAttribute('cx', String(point.x));
    circle.setAttribute('cy', String(point.y));
    circle.setAttribute('r', String(r));
    circle.setAttribute('class', className);
    return circle;
  }
}
