import { createReadStream, existsSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { pathOf } from '../admission/connect-request';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

/** Same-origin only; connect-src self covers ws(s) to this host in current browsers. */
export const DASHBOARD_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'";

/**
 * The dashboard directory: an explicit path, or "auto" = @matomo-live/client's
 * dist/dashboard when it is built; null when off or not there.
 */
export function resolveDashboardDir(setting: string | null): string | null {
  if (setting === null) return null;
  if (setting !== 'auto') return resolve(setting);
  try {
    const dir = join(dirname(require.resolve('@matomo-live/client/package.json')), 'dist', 'dashboard');
    return existsSync(dir) ? dir : null;
  } catch {
    return null;
  }
}

/**
 * Serves files under `root` for paths below `mountPath` (GET/HEAD only). Paths
 * are decoded, resolved and checked to stay inside root, so "..", encoded
 * slashes and absolute paths cannot escape it. `path`: the request's path,
 * when the caller has it already.
 */
export function serveStatic(root: string, mountPath: string, req: IncomingMessage, res: ServerResponse, path = pathOf(req.url)): void {
  let relative: string;
  try {
    relative = decodeURIComponent(path.slice(mountPath.length));
  } catch {
    return plain(res, 400, 'Bad path');
  }
  if (relative.includes('\0') || relative.includes('\\')) return plain(res, 400, 'Bad path');
  if (relative === '' || relative.endsWith('/')) relative += 'index.html';
  const base = resolve(root);
  const file = resolve(base, `.${sep}${relative}`);
  if (file !== base && !file.startsWith(base + sep)) return plain(res, 404, 'Not found');
  let size: number;
  try {
    const stat = statSync(file);
    if (!stat.isFile()) return plain(res, 404, 'Not found');
    size = stat.size;
  } catch {
    return plain(res, 404, 'Not found');
  }
  const ext = extname(file).toLowerCase();
  res.writeHead(200, {
    'Content-Type': CONTENT_TYPES[ext] ?? 'application/octet-stream',
    'Content-Length': size,
    // HTML names the assets, so it must be revalidated; assets may be cached for a while.
    'Cache-Control': ext === '.html' ? 'no-cache' : 'public, max-age=3600',
    'Content-Security-Policy': DASHBOARD_CSP,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
  });
  if (req.method === 'HEAD') return void res.end();
  createReadStream(file)
    .on('error', () => res.destroy())
    .pipe(res);
}

export function plain(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    ...headers,
  });
  res.end(`${text}\n`);
}
