import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { allowedInBundle, buildAssets } from '../../scripts/build-assets';

describe('buildAssets', () => {
  let outDir: string;
  let sizes: Array<{ file: string; bytes: number; gzipBytes: number }>;
  beforeAll(async () => {
    outDir = mkdtempSync(join(tmpdir(), 'matomo-live-assets-'));
    sizes = await buildAssets({ outDir });
  });
  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  it('builds a dependency-free IIFE that defines the global MatomoLive', () => {
    const code = readFileSync(join(outDir, 'browser', 'matomo-live.min.js'), 'utf8');
    const context: { MatomoLive?: Record<string, unknown> } = {};
    runInNewContext(code, context);
    expect(typeof context.MatomoLive?.connectLive).toBe('function');
    expect(typeof context.MatomoLive?.LiveClient).toBe('function');
    expect((context.MatomoLive?.CloseCode as Record<string, number>).InvalidToken).toBe(4001);
    expect(code).not.toMatch(/require\(/);
    // A budget, not a benchmark: a dependency slipping in would blow it (token refresh took it from 3.5 to 4.2 kB, status messages to 4.5).
    const minified = sizes.find((s) => basename(s.file) === 'matomo-live.min.js');
    expect(minified?.gzipBytes).toBeLessThan(4608);
  });

  it('builds an ES module exporting the same API', () => {
    const code = readFileSync(join(outDir, 'browser', 'matomo-live.mjs'), 'utf8');
    expect(code).toMatch(/export\s*\{[^}]*\bconnectLive\b/);
    expect(code).toMatch(/export\s*\{[^}]*\bLiveClient\b/);
  });

  it('builds a dashboard page that a strict CSP allows, with the world outline baked in', () => {
    const html = readFileSync(join(outDir, 'dashboard', 'index.html'), 'utf8');
    expect(html).not.toContain('<!--world-outline-->');
    expect(html).toMatch(/<path class="land" d="M-?\d/);
    // No inline script, no style attribute or element, nothing from another origin.
    for (const script of html.match(/<script\b[^>]*>/g) ?? []) expect(script).toMatch(/src="[a-z-]+\.js"/);
    expect(html).not.toMatch(/\sstyle=|<style\b/);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    for (const asset of ['dashboard.js', 'dashboard.css', 'matomo-live.min.js']) {
      expect(readFileSync(join(outDir, 'dashboard', asset)).length).toBeGreaterThan(1000);
    }
  });

  it('lets only the client and @matomo-live/protocol into a bundle', () => {
    const repo = join(__dirname, '..', '..', '..');
    expect(allowedInBundle(join(repo, 'client', 'src', 'live-client.ts'))).toBe(true);
    expect(allowedInBundle(join(repo, 'protocol', 'src', 'close-codes.ts'))).toBe(true);
    expect(allowedInBundle(join(repo, 'node_modules', 'ws', 'lib', 'websocket.js'))).toBe(false);
    expect(allowedInBundle(join(repo, 'shared', 'src', 'logger.ts'))).toBe(false);
    expect(allowedInBundle(join(repo, 'client', 'scripts', 'world-outline.js'))).toBe(false);
  });
});
