/**
 * The dashboard's token in a real browser (Debian's Chromium via
 * playwright-core) against a real in-process gateway serving the dashboard
 * built from the current sources: a `#token=` leaves the address bar at once
 * and a reload still connects (sessionStorage), and a page given a token
 * provider stays connected past its signed tokens' `exp` (issue 20, item 10).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import type { Browser, Page } from 'playwright-core';
import { gatewayConfigFrom, MemorySnapshots, startGateway, type RunningGateway } from '@matomo-live/test-support/gateway';
import { waitFor } from '@matomo-live/test-support/wait-for';
import { buildAssets } from '../../scripts/build-assets';
import { describeWithChromium, launchChromium } from '../support/chromium';
import { snapshotContent } from '../support/snapshot-content';

const describeWithBrowser = describeWithChromium('the dashboard token browser test');
const SECRET = 'dashboard-token-test-secret-32-bytes-or-more';

jest.setTimeout(60_000);

describeWithBrowser('the dashboard’s token in headless Chromium', () => {
  let assetsDir: string;
  let bus: MemorySnapshots;
  let running: RunningGateway;
  let browser: Browser;
  let page: Page;
  let pageErrors: string[];

  beforeAll(async () => {
    assetsDir = mkdtempSync(join(tmpdir(), 'matomo-live-dashboard-token-'));
    await buildAssets({ outDir: assetsDir });
    bus = new MemorySnapshots();
    await bus.publishContent(1, snapshotContent(1234), 1);
    const config = gatewayConfigFrom({
      PORT: '0',
      HOST: '127.0.0.1',
      VALID_TOKENS: 'tab-token',
      JWT_SECRET: SECRET,
      DASHBOARD_DIR: join(assetsDir, 'dashboard'),
      LOG_LEVEL: 'silent',
    });
    running = await startGateway(config, { feed: bus });
    browser = await launchChromium();
  });

  beforeEach(async () => {
    page = await browser.newPage();
    pageErrors = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
  });

  afterEach(() => page?.close());

  afterAll(async () => {
    await browser?.close();
    await running?.stop();
    if (assetsDir) rmSync(assetsDir, { recursive: true, force: true });
  });

  const dashboardUrl = () => `http://127.0.0.1:${running.port}/dashboard/`;
  const statusText = () => page.locator('#status-text').textContent();
  const waitLive = () =>
    page.waitForFunction(() => document.getElementById('status-text')?.textContent === 'Live', undefined, { timeout: 15_000 });

  it('removes #token from the address bar after reading it, keeps it for the tab, and connects again after a reload', async () => {
    await page.goto(`${dashboardUrl()}#token=tab-token&site=1`);
    await waitLive();
    expect(page.url()).toBe(`${dashboardUrl()}#site=1`);
    expect(await page.evaluate(() => sessionStorage.getItem('matomo-live.token'))).toBe('tab-token');

    await page.reload();
    await waitLive();
    expect(page.url()).toBe(`${dashboardUrl()}#site=1`);
    expect(await page.locator('#token-form').isHidden()).toBe(true);

    // A refused stored token is dropped, and the form asks for another.
    await page.evaluate(() => sessionStorage.setItem('matomo-live.token', 'wrong-token'));
    await page.reload();
    await page.locator('#token-form').waitFor({ state: 'visible', timeout: 15_000 });
    expect(await page.evaluate(() => sessionStorage.getItem('matomo-live.token'))).toBeNull();
    expect(pageErrors).toEqual([]);
  });

  it('keeps working with a token provider set by the embedding page, past each signed token’s exp', async () => {
    const expiries: number[] = [];
    await page.exposeFunction('issueToken', async () => {
      const exp = Math.floor(Date.now() / 1000) + 7;
      expiries.push(exp * 1000);
      return new SignJWT({ sites: [1] }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(exp).sign(Buffer.from(SECRET));
    });
    // What an embedding page does before dashboard.js loads.
    await page.addInitScript(() => {
      (window as unknown as { matomoLiveTokenProvider: () => Promise<string> }).matomoLiveTokenProvider = () =>
        (window as unknown as { issueToken: () => Promise<string> }).issueToken();
    });
    await page.goto(dashboardUrl());
    await waitLive();
    const firstExp = expiries[0] as number;
    await waitFor(() => Date.now() > firstExp + 1000, 'the first token expired', 15_000);
    expect(expiries.length).toBeGreaterThanOrEqual(2);
    expect(await statusText()).toBe('Live');
    expect(running.gateway.connectionCount).toBe(1);
    // Still served on that one connection: new totals arrive.
    await bus.publishContent(1, snapshotContent(4321), 2);
    await page.waitForFunction(() => document.querySelector('#day-today [data-field="visits"]')?.textContent === '4,321', undefined, {
      timeout: 5_000,
    });
    expect(await page.evaluate(() => sessionStorage.getItem('matomo-live.token'))).toBeNull();
    expect(pageErrors).toEqual([]);
  });
});
