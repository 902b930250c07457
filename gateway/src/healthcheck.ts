/**
 * The gateway image's HEALTHCHECK (Dockerfile.gateway): `node gateway/dist/healthcheck.js`
 * asks this container's gateway for GET /healthz on 127.0.0.1:PORT and exits 0 when it
 * answers 200, 1 otherwise.
 *
 * It speaks https when the gateway terminates TLS itself (SSL_KEY and SSL_CERT set, as
 * the reference script did): a plain http request would then fail and the container
 * would be reported unhealthy while serving fine. The certificate is not verified: it is
 * for the gateway's public name, not 127.0.0.1, and often self-signed; the question is only
 * whether this process answers, on the loopback interface of its own container.
 *
 * Kept to the environment and Node's http modules, and never reading configuration
 * files, so it stays cheap to run every few seconds; the gateway itself rejects a
 * configuration this would misread (both SSL variables or neither, PORT a number).
 */
import { get as httpGet, type IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';

/** Default 8080, as the gateway's PORT. */
export function healthUrl(env: NodeJS.ProcessEnv): string {
  const tls = Boolean(env.SSL_KEY?.trim() && env.SSL_CERT?.trim());
  const port = env.PORT?.trim() || '8080';
  return `${tls ? 'https' : 'http'}://127.0.0.1:${port}/healthz`;
}

/** Resolves true when `url` answers 200 within `timeoutMs`. */
export function checkHealth(url: string, timeoutMs = 2500): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (response: IncomingMessage) => {
      response.resume();
      resolve(response.statusCode === 200);
    };
    const request = url.startsWith('https:') ? httpsGet(url, { rejectUnauthorized: false }, done) : httpGet(url, done);
    request.setTimeout(timeoutMs, () => request.destroy(new Error('timeout')));
    request.on('error', () => resolve(false));
  });
}

if (require.main === module) {
  void checkHealth(healthUrl(process.env)).then((healthy) => process.exit(healthy ? 0 : 1));
}
