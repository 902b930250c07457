import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PollerStatus } from './poller';
import type { PollerMetrics } from './poller-metrics';

export interface HealthServerOptions {
  /** Port; 0 picks a free one. */
  port: number;
  /** Listen address. Default "0.0.0.0" (probes come from outside the container). */
  host?: string;
  status: () => PollerStatus;
  /** Readiness beyond polling health, e.g. Redis connected. Default always true. */
  ready?: () => boolean;
  /** Served on GET /metrics; absent ⇒ 404 there. */
  metrics?: PollerMetrics;
}

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

/**
 * GET /healthz: the poller's status as JSON; 200 while it works, 503 when the
 * token is refused or polling has failed for long (restart or alert).
 * GET /readyz: 200 when running and its dependencies are connected, else 503.
 * GET /metrics: Prometheus text (docs/OPERATIONS.md, "Poller metrics").
 */
export async function startHealthServer({
  port,
  host = '0.0.0.0',
  status,
  ready = () => true,
  metrics,
}: HealthServerOptions): Promise<HealthServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const reply = (code: number, body: unknown) => {
      const text = JSON.stringify(body);
      res
        .writeHead(code, {
          'content-type': 'application/json; charset=utf-8',
          'cache-control': 'no-store',
          'content-length': Buffer.byteLength(text),
        })
        .end(text);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(405, { error: 'method not allowed' });
    if (path === '/healthz') {
      const s = status();
      return reply(s.healthy ? 200 : 503, s);
    }
    if (path === '/readyz') {
      const ok = status().running && ready();
      return reply(ok ? 200 : 503, { ready: ok });
    }
    if (path === '/metrics' && metrics) {
      metrics.metrics().then(
        (text) => res.writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' }).end(text),
        () => reply(500, { error: 'metrics failed' }),
      );
      return;
    }
    reply(404, { error: 'not found' });
  });
  server.listen(port, host);
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    async close() {
      server.closeAllConnections();
      const closed = once(server, 'close');
      server.close();
      await closed;
    },
  };
}
