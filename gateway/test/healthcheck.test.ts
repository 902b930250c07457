/**
 * The image's HEALTHCHECK command, as Docker runs it (`node gateway/dist/healthcheck.js`
 * with the container's environment), against a real gateway: plain http, and https
 * when the gateway terminates TLS itself with SSL_KEY and SSL_CERT.
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '@matomo-live/test-support/net';
import { buildWorkspace } from '@matomo-live/test-support/processes';
import { gatewayConfigFrom, MemorySnapshots, startGateway, type RunningGateway } from '@matomo-live/test-support/gateway';
import { hasOpenssl, selfSignedPair, type SelfSignedPair } from '@matomo-live/test-support/tls';
import { healthUrl } from '../src/healthcheck';

const SCRIPT = join(__dirname, '..', 'dist', 'healthcheck.js');

/** The exit code of the built healthcheck run with only `env` (and PATH). */
function healthcheck(env: Record<string, string>): Promise<number | null> {
  const child = spawn(process.execPath, [SCRIPT], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: 'ignore' });
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

if (!hasOpenssl())
  console.warn('\n*** SKIPPED the TLS case of gateway/test/healthcheck.test.ts: openssl is not on PATH (apt-get install openssl)\n');
const testWithOpenssl = hasOpenssl() ? test : test.skip;

describe('node gateway/dist/healthcheck.js', () => {
  const gateways: RunningGateway[] = [];
  let pair: SelfSignedPair | undefined;

  beforeAll(() => buildWorkspace(join(__dirname, '..')));

  afterAll(async () => {
    await Promise.all(gateways.map((g) => g.stop()));
    if (pair) rmSync(pair.dir, { recursive: true, force: true });
  });

  async function gatewayWith(env: Record<string, string>): Promise<RunningGateway> {
    const port = await freePort();
    const config = gatewayConfigFrom({ PORT: String(port), HOST: '127.0.0.1', VALID_TOKENS: 'tok', DASHBOARD_DIR: 'off', ...env });
    const gateway = await startGateway(config, { feed: new MemorySnapshots() });
    gateways.push(gateway);
    return gateway;
  }

  test('asks http://127.0.0.1:PORT/healthz, or https when both SSL_KEY and SSL_CERT are set', () => {
    expect(healthUrl({})).toBe('http://127.0.0.1:8080/healthz');
    expect(healthUrl({ PORT: '9000', SSL_KEY: '/k.pem' })).toBe('http://127.0.0.1:9000/healthz');
    expect(healthUrl({ PORT: '9000', SSL_KEY: '/k.pem', SSL_CERT: '/c.pem' })).toBe('https://127.0.0.1:9000/healthz');
  });

  test('exits 0 for a plain gateway on PORT, 1 when nothing answers there', async () => {
    const gateway = await gatewayWith({});
    expect(await healthcheck({ PORT: String(gateway.port) })).toBe(0);
    expect(await healthcheck({ PORT: String(await freePort()) })).toBe(1);
  });

  testWithOpenssl('exits 0 for a gateway terminating TLS with a self-signed certificate, where plain http fails', async () => {
    pair = selfSignedPair();
    const tls = { SSL_KEY: pair.keyPath, SSL_CERT: pair.certPath };
    const gateway = await gatewayWith(tls);
    expect(await healthcheck({ PORT: String(gateway.port), ...tls })).toBe(0);
    // What the image's previous plain-http check did: fails against this gateway.
    expect(await healthcheck({ PORT: String(gateway.port) })).toBe(1);
  });
});
