/**
 * An HTTP proxy in front of the Matomo simulator that counts what one client
 * costs Matomo: requests, request body bytes, response body bytes, and how
 * many ticks that was (Live.getLastVisitsDetails calls, one per tick for both pollers).
 */
import { once } from 'node:events';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProxyCounts {
  requests: number;
  requestBytes: number;
  responseBytes: number;
  /** Live.getLastVisitsDetails sub-requests seen (plain or inside API.getBulkRequest). */
  liveCalls: number;
  /** API sub-requests seen (1 per plain request, N per bulk request). */
  apiCalls: number;
}

export interface CountingProxy {
  /** Base URL ending in "/". */
  url: string;
  counts(): ProxyCounts;
  close(): Promise<void>;
}

/** Counts `method=X` occurrences in a form body, including url-encoded bulk sub-requests. */
function methodsIn(body: string): string[] {
  let decoded = body;
  try {
    decoded = decodeURIComponent(body.replace(/\+/g, ' '));
  } catch {
    // Not valid percent-encoding: count what is readable.
  }
  return [...decoded.matchAll(/method=([A-Za-z]+\.[A-Za-z]+)/g)].map((m) => m[1] as string).filter((m) => m !== 'API.getBulkRequest');
}

export async function startCountingProxy(target: string): Promise<CountingProxy> {
  const upstream = new URL(target);
  const agent = new Agent({ keepAlive: true });
  const counts: ProxyCounts = { requests: 0, requestBytes: 0, responseBytes: 0, liveCalls: 0, apiCalls: 0 };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const query = new URL(req.url ?? '/', 'http://x').search.slice(1);
      const methods = methodsIn(`${query}&${body.toString('latin1')}`);
      counts.requests++;
      counts.requestBytes += body.length;
      counts.apiCalls += methods.length;
      counts.liveCalls += methods.filter((m) => m === 'Live.getLastVisitsDetails').length;
      const forward = request(
        {
          host: upstream.hostname,
          port: upstream.port,
          path: req.url,
          method: req.method,
          headers: { ...req.headers, host: upstream.host },
          agent,
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.on('data', (c: Buffer) => {
            counts.responseBytes += c.length;
            res.write(c);
          });
          answer.on('end', () => res.end());
        },
      );
      forward.on('error', () => res.destroy());
      forward.end(body);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    counts: () => ({ ...counts }),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
