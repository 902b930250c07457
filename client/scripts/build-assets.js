// @ts-check
'use strict';
/**
 * Builds what browsers load, after `tsc -b` built the Node library:
 *   dist/browser/matomo-live.js, .min.js (IIFE, global `MatomoLive`), .mjs (ESM)
 *   dist/dashboard/index.html, dashboard.js, dashboard.css (+ copies of matomo-live.min.js and .mjs)
 * The browser bundles must not contain any package: the build fails if one
 * slips in. Run: node client/scripts/build-assets.js [outDir]
 */
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');
const esbuild = require('esbuild');
const { worldOutlinePath, graticulePath } = require('./world-outline');

const clientDir = path.resolve(__dirname, '..');
/** The one package a browser bundle may contain: the dependency-free wire protocol. */
const protocolDir = path.dirname(require.resolve('@matomo-live/protocol/package.json'));
/**
 * Workspace packages export their TypeScript sources under this condition
 * (package.json "exports"), so the bundles tree-shake them and need no prior
 * build of @matomo-live/protocol.
 */
const SOURCE_CONDITION = '@matomo-live/source';
const TARGET = ['es2020', 'chrome90', 'firefox90', 'safari14'];

/**
 * @param {import('esbuild').BuildOptions & { outfile: string }} options
 */
async function bundle(options) {
  const result = await esbuild.build({
    bundle: true,
    platform: 'browser',
    target: TARGET,
    tsconfig: path.join(clientDir, 'tsconfig.json'),
    legalComments: 'none',
    metafile: true,
    logLevel: 'silent',
    conditions: [SOURCE_CONDITION],
    ...options,
  });
  const packages = Object.keys(result.metafile?.inputs ?? {}).filter((input) => !allowedInBundle(path.resolve(input)));
  if (packages.length > 0) throw new Error(`${options.outfile}: a browser bundle must not contain packages, found ${packages.join(', ')}`);
  return options.outfile;
}

/**
 * Our own sources and @matomo-live/protocol's; anything else is a package
 * (ws, a polyfill…) that slipped in. Checked on real paths, so it holds for a
 * workspace link and for a copy inside node_modules alike.
 * @param {string} file
 */
function allowedInBundle(file) {
  const inside = (/** @type {string} */ dir) => {
    const relative = path.relative(dir, file);
    return !relative.startsWith('..') && !path.isAbsolute(relative) && !relative.split(path.sep).includes('node_modules');
  };
  return inside(path.join(clientDir, 'src')) || inside(protocolDir);
}

/** @param {string} file */
function sizeOf(file) {
  const bytes = fs.readFileSync(file);
  return { file, bytes: bytes.length, gzipBytes: zlib.gzipSync(bytes, { level: 9 }).length };
}

/**
 * @param {{ outDir?: string }} [options] outDir default client/dist
 */
async function buildAssets(options = {}) {
  const outDir = path.resolve(options.outDir ?? path.join(clientDir, 'dist'));
  const browserDir = path.join(outDir, 'browser');
  const dashboardDir = path.join(outDir, 'dashboard');
  fs.rmSync(browserDir, { recursive: true, force: true });
  fs.rmSync(dashboardDir, { recursive: true, force: true });
  fs.mkdirSync(browserDir, { recursive: true });
  fs.mkdirSync(dashboardDir, { recursive: true });

  const library = path.join(clientDir, 'src', 'browser.ts');
  const iife = { entryPoints: [library], format: /** @type {const} */ ('iife'), globalName: 'MatomoLive' };
  const files = await Promise.all([
    bundle({ ...iife, outfile: path.join(browserDir, 'matomo-live.js') }),
    bundle({ ...iife, minify: true, outfile: path.join(browserDir, 'matomo-live.min.js') }),
    bundle({ entryPoints: [library], format: 'esm', outfile: path.join(browserDir, 'matomo-live.mjs') }),
    bundle({
      entryPoints: [path.join(clientDir, 'src', 'ui', 'dashboard-main.ts')],
      format: 'iife',
      minify: true,
      outfile: path.join(dashboardDir, 'dashboard.js'),
    }),
  ]);

  const sources = path.join(clientDir, 'dashboard');
  fs.copyFileSync(path.join(sources, 'dashboard.css'), path.join(dashboardDir, 'dashboard.css'));
  // Served by every gateway next to the dashboard, so pages elsewhere can load the library from it.
  for (const name of ['matomo-live.min.js', 'matomo-live.mjs']) fs.copyFileSync(path.join(browserDir, name), path.join(dashboardDir, name));
  const land = require('world-atlas/land-110m.json');
  const outline = `<path class="graticule" d="${graticulePath()}"/>\n        <path class="land" d="${worldOutlinePath(land)}"/>`;
  const html = fs.readFileSync(path.join(sources, 'index.html'), 'utf8');
  if (!html.includes('<!--world-outline-->')) throw new Error('dashboard/index.html lacks the <!--world-outline--> marker');
  fs.writeFileSync(path.join(dashboardDir, 'index.html'), html.replace('<!--world-outline-->', outline));

  return [...files, path.join(dashboardDir, 'index.html'), path.join(dashboardDir, 'dashboard.css')].map(sizeOf);
}

module.exports = { buildAssets, allowedInBundle };

if (require.main === module) {
  buildAssets({ outDir: process.argv[2] }).then(
    (sizes) => {
      for (const { file, bytes, gzipBytes } of sizes) {
        console.log(
          `${path.relative(process.cwd(), file).padEnd(44)} ${String(bytes).padStart(7)} B  ${String(gzipBytes).padStart(6)} B gzip`,
        );
      }
    },
    (error) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    },
  );
}
