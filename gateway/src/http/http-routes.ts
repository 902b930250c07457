import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GatewayConfig, Logger } from '@matomo-live/shared';
import { bearerToken, isWebSocketPath, pathOf } from '../admission/connect-request';
import type { GatewayMetrics } from '../metrics/gateway-metrics';
import type { SnapshotHub } from '../snapshots/snapshot-hub';
import { plain, serveStatic } from './static-files';
import { grantAllows } from '../admission/token-auth';
import type { TokenVerifier } from '../admission/token-sources';
import type { FailedAuthLimiter } from '../admission/failed-auth-limiter';
import { LOG_DOCS } from '../log-docs';

export interface HttpRoutesOptions {
  config: GatewayConfig;
  hub: SnapshotHub;
  auth: TokenVerifier;
  /** Wrong tokens per client address, shared with the WebSocket upgrades. */
  failedAuth: FailedAuthLimiter;
  /** The client's address (TRUST_PROXY applied). */
  clientAddress: (req: IncomingMessage) => string;
  metrics: GatewayMetrics;
  isReady: () => boolean;
  /** Served at /dashboard/; null = off. */
  dashboardDir: string | null;
  logger: Logger;
}

const DASHBOARD_MOUNT = '/dashboard/';

/**
 * Plain HTTP: /healthz (liveness, no Redis), /readyz, /metrics, /debug (needs
 * Authorization: Bearer — never a token in the URL), /dashboard/.
 */
export function createHttpHandler({
  config,
  hub,
  auth,
  failedAuth,
  clientAddress,
  metrics,
  isReady,
  dashboardDir,
  logger,
}: HttpRoutesOptions) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const path = pathOf(req.url);
    if (req.method !== 'GET' && req.method !== 'HEAD') return plain(res, 405, 'Method not allowed', { Allow: 'GET, HEAD' });
    if (path === '/healthz') return json(res, 200, { status: 'ok' });
    if (path === '/readyz') {
      const ready = isReady();
      return json(res, ready ? 200 : 503, { ready, sites: config.siteIds.map((site) => ({ site, seq: hub.snapshot(site)?.seq ?? null })) });
    }
    if (path === '/metrics') {
      metrics.registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'Content-Type': metrics.registry.contentType, 'Cache-Control': 'no-store' });
          res.end(text);
        },
        (error: Error) => {
          logger.error({ err: error }, 'metrics failed');
          plain(res, 500, 'Metrics failed');
        },
      );
      return;
    }
    if (path === '/debug') {
      debugPage(req, res).catch((error: Error) => {
        logger.error({ err: error }, 'debug page failed');
        if (!res.headersSent) plain(res, 500, 'Debug page failed');
      });
      return;
    }
    if (path === '/dashboard' && dashboardDir !== null) return plain(res, 301, 'Moved', { Location: DASHBOARD_MOUNT });
    if (path.startsWith(DASHBOARD_MOUNT) && dashboardDir !== null) return serveStatic(dashboardDir, DASHBOARD_MOUNT, req, res, path);
    if (isWebSocketPath(path)) return plain(res, 426, 'This is a WebSocket endpoint', { Upgrade: 'websocket' });
    return plain(res, 404, 'Not found');
  };

  /** The reference's current-snapshot page, behind a token; wrong tokens count against the address as at the upgrade. */
  async function debugPage(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const ip = clientAddress(req);
    const blockedMs = failedAuth.blockedFor(ip);
    if (blockedMs !== undefined) {
      metrics.authFailures.inc({ reason: 'debug-failed-auth-limit' });
      return plain(res, 429, 'Too many wrong tokens from this address', { 'Retry-After': String(Math.ceil(blockedMs / 1000)) });
    }
    const result = await auth.verify(bearerToken(req.headers.authorization));
    if (!result.ok) {
      metrics.authFailures.inc({ reason: `debug-${result.reason}` });
      if (result.reason === 'invalid' && failedAuth.fail(ip)) {
        logger.warn(
          { ip, failures: config.failedAuthPerIp, docs: LOG_DOCS.failedTokens },
          'too many wrong tokens: address refused until its minute ends',
        );
      }
      return plain(res, 401, 'Send Authorization: Bearer <token>', { 'WWW-Authenticate': 'Bearer' });
    }
    const siteText = new URL(req.url ?? '/', 'http://gateway.invalid').searchParams.get('site');
    const siteId = siteText === null ? config.defaultSiteId : Number(siteText);
    if (!hub.hasSite(siteId)) return plain(res, 404, 'Unknown site');
    if (!grantAllows(result.grant, siteId)) return plain(res, 403, 'Site not allowed for this token');
    const snapshot = hub.snapshot(siteId);
    const pretty = snapshot === null ? 'no snapshot yet' : JSON.stringify(snapshot, null, 2);
    res.writeHead(200, {
      'Content-Type': 'text/html; charset=utf-8',
      'Cache-Control': 'no-store',
      'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'",
      'X-Content-Type-Options': 'nosniff',
    });
    res.end(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>matomo-live site ${siteId}</title>` +
        `<style>body{font:14px monospace;margin:1rem}</style></head><body><h1>Site ${siteId}, seq ${snapshot?.seq ?? '-'}</h1>` +
        `<pre>${escapeHtml(pretty)}</pre></body></html>`,
    );
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(JSON.stringify(body));
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
