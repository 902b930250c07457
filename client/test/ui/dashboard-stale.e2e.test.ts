/**
 * "A screen tells the truth: old data is shown as old", end to end: the Matomo
 * simulator, the poller and the gateway as their built processes over a real
 * Redis, the dashboard built from the current sources, Debian's Chromium
 * driven by playwright-core. The poller is SIGKILLed and started again, then
 * the simulator fails every request and recovers; the page must say so each
 * time, through the gateway's status messages (`?status=1`), and take the
 * banner away when the data is live again. It saves
 * test-artifacts/dashboard-stale.png.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { startMatomoSim, type MatomoSim } from '@matomo-live/matomo-sim';
import { freePort } from '@matomo-live/test-support/net';
import { REPO_ROOT, startService, waitForHttpOk, type ServiceProcess } from '@matomo-live/test-support/processes';
import { redisScope, type RedisScope } from '@matomo-live/test-support/redis';
import { buildAssets } from '../../scripts/build-assets';
import { describeWithChromium, launchChromium, layoutProblems } from '../support/chromium';

const describeWithBrowser = describeWithChromium('the dashboard staleness browser test');

jest.setTimeout(120_000);

/** FETCH_INTERVAL of the poller here: its data is stale after max(3 × 250 ms, 15 s) = the 15 s floor. */
const FETCH_INTERVAL_MS = 250;
const STALE_AFTER_MS = 15_000;

describeWithBrowser('dashboard staleness in headless Chromium', () => {
  let sim: MatomoSim;
  let browser: Browser;
  let page: Page;
  let poller: ServiceProcess;
  let gateway: ServiceProcess;
  let gatewayPort: number;
  let pollerEnv: Record<string, string>;
  let assetsDir: string;
  let redis: RedisScope;
  const pageErrors: string[] = [];

  async function control(method: 'POST' | 'DELETE', path: string, body?: unknown): Promise<void> {
    const response = await fetch(new URL(`_sim/${path}`, sim.url), {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`${method} /_sim/${path}: ${response.status} ${await response.text()}`);
  }

  const startPoller = () => {
    poller = startService('poller/dist/main.js', pollerEnv);
  };

  /** What the processes said, for a failure message. */
  const logs = () => `\npoller:\n${poller.output()}\ngateway:\n${gateway.output()}`;

  /** Waits, in the page, until the banner and the indicator read as `expected` says; fails with what they showed and the logs. */
  async function waitForScreen(
    expected: { banner: RegExp | null; indicator: string },
    what: string,
    timeoutMs: number,
  ): Promise<{ banner: string | null; indicator: string | null }> {
    try {
      await page.waitForFunction(
        ({ banner, flags, indicator }) => {
          const shown = !(document.getElementById('stale-banner') as HTMLElement).hidden;
          const text = document.getElementById('stale-text')?.textContent ?? '';
          const bannerOk = banner === null ? !shown : shown && new RegExp(banner, flags).test(text);
          return bannerOk && document.getElementById('status-text')?.textContent === indicator;
        },
        { banner: expected.banner?.source ?? null, flags: expected.banner?.flags ?? '', indicator: expected.indicator },
        { timeout: timeoutMs, polling: 100 },
      );
    } catch (error) {
      const seen = await screen();
      throw new Error(`${what}: ${String(error)}\nthe page showed ${JSON.stringify(seen)}${logs()}`, { cause: error });
    }
    return screen();
  }

  /** The banner's text (null while hidden) and the indicator's. */
  const screen = () =>
    page.evaluate(() => ({
      banner: (document.getElementById('stale-banner') as HTMLElement).hidden
        ? null
        : (document.getElementById('stale-text')?.textContent ?? ''),
      indicator: document.getElementById('status-text')?.textContent ?? null,
    }));

  beforeAll(async () => {
    assetsDir = mkdtempSync(join(tmpdir(), 'matomo-live-dashboard-stale-'));
    await buildAssets({ outDir: assetsDir });
    redis = await redisScope('dashboard-stale');
    sim = await startMatomoSim({ token: 'sim-token', timezone: 'Europe/Paris' });
    for (const [city, country, countryCode, latitude, longitude] of [
      ['Lyon', 'France', 'fr', 45.764, 4.8357],
      ['Porto', 'Portugal', 'pt', 41.1579, -8.6291],
    ] as const)
      await control('POST', 'visits', { siteId: 1, city, country, countryCode, latitude, longitude, browserName: 'Firefox' });

    gatewayPort = await freePort();
    const common = { REDIS_URL: redis.url, REDIS_PREFIX: redis.prefix, LOG_LEVEL: 'warn', MATOMO_SITE_ID: '1' };
    pollerEnv = {
      ...common,
      MATOMO_URL: sim.url,
      MATOMO_TOKEN: 'sim-token',
      FETCH_INTERVAL: String(FETCH_INTERVAL_MS),
      SUMMARY_INTERVAL: '1000',
      POLLER_HEALTH_PORT: '0',
    };
    startPoller();
    gateway = startService('gateway/dist/main.js', {
      ...common,
      PORT: String(gatewayPort),
      HOST: '127.0.0.1',
      VALID_TOKENS: 'tok',
      DASHBOARD_DIR: join(assetsDir, 'dashboard'),
    });
    await waitForHttpOk(`http://127.0.0.1:${gatewayPort}/healthz`, gateway);

    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
    page.on('pageerror', (error) => pageErrors.push(`pageerror: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(`console: ${message.text()}`);
    });
  });

  afterAll(async () => {
    await browser?.close();
    await Promise.all([gateway?.kill(), poller?.kill()]);
    await sim?.close();
    await redis?.close();
    if (assetsDir) rmSync(assetsDir, { recursive: true, force: true });
  });

  it('shows live data with no banner, and has the live region ready for one', async () => {
    await page.goto(`http://127.0.0.1:${gatewayPort}/dashboard/#token=tok`);
    await page
      .waitForFunction(() => document.querySelectorAll('#visits-body td.place').length >= 2, undefined, { timeout: 15_000 })
      .catch((error: unknown) => {
        throw new Error(`${String(error)}${logs()}`);
      });
    await waitForScreen({ banner: null, indicator: 'Live' }, 'the live page', 10_000);
    const region = page.locator('#stale');
    expect(await region.getAttribute('role')).toBe('status');
    expect(await region.getAttribute('aria-live')).toBe('polite');
    expect(await page.locator('#stale-banner').isVisible()).toBe(false);
  });

  it('says the poller is not reporting once it was killed, after the 15 s floor, with an age that keeps counting', async () => {
    await poller.kill(); // SIGKILL: no goodbye, the heartbeats just stop
    const killedAt = Date.now();
    // Its data ages past the threshold a moment before the silence is noticed ("no new data from Matomo", then
    // "the poller is not reporting"): wait for the first banner of any reason, then for the silence.
    await waitForScreen({ banner: /^Data delayed — /, indicator: 'Delayed' }, 'the first stale banner', STALE_AFTER_MS + 20_000);
    const firstAfterMs = Date.now() - killedAt;
    // The data was read at most a poll or two before the kill: nothing is stale before the 15 s floor.
    expect(firstAfterMs).toBeGreaterThan(STALE_AFTER_MS - 2_000);
    const silent = await waitForScreen(
      { banner: /^Data delayed — last update \d+ (s|min) ago: the poller is not reporting$/, indicator: 'Delayed' },
      'the poller-silent banner',
      STALE_AFTER_MS + 10_000,
    );
    expect(await page.locator('#status').getAttribute('class')).toContain('status--delayed');
    expect(await page.locator('#stale-banner').isVisible()).toBe(true);
    // The age counts on in the page (its own clock, one refresh at least every 15 s), with no new message.
    await waitForScreen(
      {
        banner: new RegExp(
          `^(?!${escapeRegExp(silent.banner ?? '')}$)Data delayed — last update \\d+ (s|min) ago: the poller is not reporting$`,
        ),
        indicator: 'Delayed',
      },
      'the refreshed age',
      16_000,
    );
  });

  it('keeps the page in place with the banner shown, from 360 to 1920 px, and takes its screenshot', async () => {
    for (const [width, height] of [
      [360, 780],
      [768, 1024],
      [1366, 768],
      [1920, 1080],
    ] as const) {
      await page.setViewportSize({ width, height });
      const problems = await page.evaluate(layoutProblems);
      expect({ width, problems }).toEqual({ width, problems: [] });
      // Showing the banner moves nothing: every box of the page is where it is without it.
      const moved = await page.evaluate(() => {
        const boxes = () =>
          Array.from(document.querySelectorAll('body > *:not(#stale), .card, #status, #updated')).map((e) => {
            const r = e.getBoundingClientRect();
            return `${e.tagName.toLowerCase()}#${e.id}.${e.className}: ${r.left},${r.top},${r.width},${r.height}`;
          });
        const banner = document.getElementById('stale-banner') as HTMLElement;
        const shown = boxes();
        banner.hidden = true;
        const hidden = boxes();
        banner.hidden = false;
        return shown.filter((box, i) => box !== hidden[i]);
      });
      expect({ width, moved }).toEqual({ width, moved: [] });
      // The whole banner is on screen, its text unclipped.
      const fits = await page.locator('#stale-banner').evaluate((banner) => {
        const r = banner.getBoundingClientRect();
        return (
          r.left >= 0 && r.right <= innerWidth && r.top >= 0 && r.bottom <= innerHeight && banner.scrollWidth <= banner.clientWidth + 1
        );
      });
      expect({ width, fits }).toEqual({ width, fits: true });
    }
    await page.setViewportSize({ width: 1366, height: 768 });
    mkdirSync(join(REPO_ROOT, 'test-artifacts'), { recursive: true });
    const shot = join(REPO_ROOT, 'test-artifacts', 'dashboard-stale.png');
    await page.screenshot({ path: shot });
    expect(existsSync(shot)).toBe(true);
  });

  it('takes the banner away and says Live again once the poller is back', async () => {
    startPoller();
    // A new poller takes the dead one's lease when it expires, then reads and reports.
    await waitForScreen({ banner: null, indicator: 'Live' }, 'the live page after the restart', 60_000);
    expect(await page.locator('#status').getAttribute('class')).toContain('status--live');
  });

  it('says Matomo is unreachable while the simulator fails every request, and goes when it answers again', async () => {
    await control('POST', 'faults', { kind: 'http-5xx', status: 503, count: -1 });
    try {
      await waitForScreen(
        { banner: /^Data delayed — last update (just now|\d+ (s|min) ago): Matomo unreachable$/, indicator: 'Delayed' },
        'the Matomo-unreachable banner',
        STALE_AFTER_MS + 20_000,
      );
    } finally {
      await control('DELETE', 'faults');
    }
    await waitForScreen({ banner: null, indicator: 'Live' }, 'the live page once Matomo answers', 60_000);
    expect(pageErrors).toEqual([]);
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
