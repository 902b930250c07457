import type { StatusMessage } from '@matomo-live/protocol';
import { STALE_REFRESH_MS, StaleBanner } from '../../src/ui/stale-banner';

/** Interval timers that run when the test says so. */
class ManualIntervals {
  readonly running = new Map<number, { callback: () => void; ms: number }>();
  private nextId = 1;
  started = 0;
  setInterval(callback: () => void, ms: number): unknown {
    this.started += 1;
    this.running.set(this.nextId, { callback, ms });
    return this.nextId++;
  }
  clearInterval(handle: unknown): void {
    this.running.delete(handle as number);
  }
  tick(): void {
    for (const { callback } of [...this.running.values()]) callback();
  }
}

const stale = (dataAgeMs: number | null, reason: StatusMessage['reason'] = 'matomo_unreachable'): StatusMessage => ({
  type: 'status',
  site: 1,
  state: 'stale',
  reason,
  data_age_ms: dataAgeMs,
  stale_after_ms: 15_000,
});
const live: StatusMessage = { type: 'status', site: 1, state: 'live', reason: null, data_age_ms: 200, stale_after_ms: 15_000 };

describe('StaleBanner', () => {
  let status: StatusMessage | undefined;
  let timers: ManualIntervals;
  let elements: { banner: { hidden: boolean }; text: { textContent: string | null } };
  let writes: string[];
  let banner: StaleBanner;
  beforeEach(() => {
    status = undefined;
    timers = new ManualIntervals();
    writes = [];
    let text: string | null = '';
    elements = {
      banner: { hidden: true },
      text: {
        get textContent() {
          return text;
        },
        set textContent(value: string | null) {
          writes.push(value ?? '');
          text = value;
        },
      },
    };
    banner = new StaleBanner(elements, () => status, timers);
  });

  it('stays hidden, with no timer, while there is no status or the data is live', () => {
    expect(banner.update()).toBe(false);
    status = live;
    expect(banner.update()).toBe(false);
    expect(elements.banner.hidden).toBe(true);
    expect(timers.started).toBe(0);
  });

  it('shows the reason and the age while stale, refreshed by one timer every 15 s', () => {
    status = stale(20_000);
    expect(banner.update()).toBe(true);
    expect(elements.banner.hidden).toBe(false);
    expect(elements.text.textContent).toBe('Data delayed — last update 20 s ago: Matomo unreachable');
    expect([...timers.running.values()].map((t) => t.ms)).toEqual([STALE_REFRESH_MS]);
    expect(STALE_REFRESH_MS).toBeLessThanOrEqual(15_000);
    // Another message while shown (a new reason): still one timer.
    status = stale(35_000, 'poller_silent');
    banner.update();
    expect(timers.running.size).toBe(1);
    expect(timers.started).toBe(1);
    status = stale(180_000, 'poller_silent');
    timers.tick();
    expect(elements.text.textContent).toBe('Data delayed — last update 3 min ago: the poller is not reporting');
  });

  it('rewrites its live region only when the text changes', () => {
    status = stale(61_000);
    banner.update();
    status = stale(76_000);
    timers.tick();
    status = stale(91_000);
    timers.tick();
    expect(writes).toEqual(['Data delayed — last update 1 min ago: Matomo unreachable']);
  });

  it('says "no data yet" before the first read', () => {
    status = stale(null, 'poller_silent');
    banner.update();
    expect(elements.text.textContent).toBe('Data delayed — no data yet: the poller is not reporting');
  });

  it('hides at once on a live status and stops its timer; shows again on the next stale one', () => {
    status = stale(20_000);
    banner.update();
    status = live;
    expect(banner.update()).toBe(false);
    expect(elements.banner.hidden).toBe(true);
    expect(timers.running.size).toBe(0);
    status = stale(16_000, 'data_old');
    banner.update();
    expect(elements.banner.hidden).toBe(false);
    expect(elements.text.textContent).toBe('Data delayed — last update 16 s ago: no new data from Matomo');
    expect(timers.running.size).toBe(1);
  });
});
