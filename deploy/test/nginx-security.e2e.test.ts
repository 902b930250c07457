/**
 * The shipped NGINX sites as an attacker meets them (issue 20, the deploy
 * side), in the installed nginx (1.22, the oldest the files promise to work
 * with) in front of a real gateway:
 * - matomo-live-tls.conf speaks Mozilla's intermediate profile: TLS 1.3, and
 *   TLS 1.2 only with ECDHE + AES-GCM / ChaCha20 (no CBC, no static RSA),
 *   driven with `openssl s_client` over every cipher the client knows;
 * - the port-80 redirect drops a query string that holds a token;
 * - /debug is answered 404 by both sites (as /metrics is).
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { createServer, type Server } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gatewayConfigFrom, MemorySnapshots, startGateway, type RunningGateway } from '@matomo-live/test-support/gateway';
import { selfSignedPair, type SelfSignedPair } from '@matomo-live/test-support/tls';
import { missingForNginx, startSiteNginx, type SiteNginx, SITE_CONTENT } from './site-nginx';

const TOKEN = 'nginx-security-test-token-0123456789';

const missing = missingForNginx();
if (missing.length > 0) {
  console.warn(
    `\n*** SKIPPED deploy/test/nginx-security.e2e.test.ts (TLS profile, redirect, /debug): ${missing.join(' and ')} ` +
      `not on PATH (apt-get install nginx-light openssl).\n`,
  );
}
const describeWithNginx = missing.length === 0 ? describe : describe.skip;

interface Handshake {
  ok: boolean;
  protocol?: string;
  cipher?: string;
  output: string;
}

/**
 * One `openssl s_client` handshake. `@SECLEVEL=0` on the client side so that
 * it really offers the old suites (Debian's OpenSSL would otherwise drop
 * them itself and a refusal would prove nothing about the server).
 */
function handshake(port: number, args: string[]): Promise<Handshake> {
  return new Promise((resolve) => {
    const child = execFile(
      'openssl',
      ['s_client', '-brief', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost', ...args],
      { timeout: 20_000 },
      (error, stdout, stderr) => {
        const output = `${stdout}${stderr}`;
        resolve({
          ok: error === null && /Ciphersuite: /.test(output),
          protocol: /Protocol version: (\S+)/.exec(output)?.[1],
          cipher: /Ciphersuite: (\S+)/.exec(output)?.[1],
          output,
        });
      },
    );
    child.stdin?.end();
  });
}
const tls12 = (port: number, cipher: string) => handshake(port, ['-tls1_2', '-cipher', `${cipher}:@SECLEVEL=0`]);

/** Every TLS 1.2 (and older) cipher suite this openssl knows, by its OpenSSL name. */
function allTls12Ciphers(): string[] {
  const list = execFileSync('openssl', ['ciphers', '-v', 'ALL:COMPLEMENTOFALL:@SECLEVEL=0'], { encoding: 'utf8' });
  return list
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter(([name, version]) => name && version && version !== 'TLSv1.3')
    .map(([name]) => name!);
}

/** The certificate kinds a site may be given: RSA (what most CAs issue) and ECDSA (the shipped self-signed script). */
function rsaPair(): SelfSignedPair {
  const dir = mkdtempSync(join(tmpdir(), 'matomo-live-rsa-'));
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-keyout', join(dir, 'privkey.pem'), '-out', join(dir, 'fullchain.pem'),
  ], { stdio: ['ignore', 'ignore', 'pipe'] }); // prettier-ignore
  execFileSync('chmod', ['755', dir]);
  const certPath = join(dir, 'fullchain.pem');
  return { dir, certPath, keyPath: join(dir, 'privkey.pem'), cert: readFileSync(certPath) };
}

describeWithNginx('the shipped nginx sites against an attacker', () => {
  let gateway: RunningGateway;
  const pairs: SelfSignedPair[] = [];
  let rsa: SelfSignedPair;
  let ecdsa: SelfSignedPair;
  const running: SiteNginx[] = [];

  beforeAll(async () => {
    const feed = new MemorySnapshots();
    await feed.publishContent(1, SITE_CONTENT, 3);
    gateway = await startGateway(
      gatewayConfigFrom({ PORT: '0', HOST: '127.0.0.1', VALID_TOKENS: TOKEN, DASHBOARD_DIR: 'off', TRUST_PROXY: 'loopback' }),
      { feed },
    );
    rsa = rsaPair();
    ecdsa = selfSignedPair();
    pairs.push(rsa, ecdsa);
  });

  afterAll(async () => {
    for (const nginx of running.splice(0)) await nginx.stop();
    await gateway?.stop();
    for (const pair of pairs) rmSync(pair.dir, { recursive: true, force: true });
  });

  const start = async (site: 'plain' | 'tls', certDir?: string): Promise<SiteNginx> => {
    const nginx = await startSiteNginx({ site, upstreamPort: gateway.port, certDir });
    running.push(nginx);
    return nginx;
  };

  describe("matomo-live-tls.conf: Mozilla's intermediate profile", () => {
    test('the client offers the old suites: a permissive server (the control) accepts AES256-SHA and ECDHE-RSA-AES128-SHA', async () => {
      const control: Server = createServer({
        key: readFileSync(rsa.keyPath),
        cert: rsa.cert,
        ciphers: 'AES256-SHA:ECDHE-RSA-AES128-SHA:@SECLEVEL=0',
        minVersion: 'TLSv1.2',
        maxVersion: 'TLSv1.2',
      });
      control.on('secureConnection', (socket) => socket.end());
      // A refused handshake makes the server emit an error; the client's view is what counts.
      control.on('tlsClientError', () => undefined);
      await new Promise<void>((resolve) => control.listen(0, '127.0.0.1', resolve));
      const port = (control.address() as { port: number }).port;
      try {
        for (const cipher of ['AES256-SHA', 'ECDHE-RSA-AES128-SHA']) {
          const result = await tls12(port, cipher);
          expect([cipher, result.ok, result.cipher]).toEqual([cipher, true, cipher]);
        }
      } finally {
        await new Promise((resolve) => control.close(resolve));
      }
    });

    test('RSA certificate: AES256-SHA and ECDHE-RSA-AES128-SHA refused; ECDHE-RSA-AES128-GCM-SHA256 and TLS 1.3 accepted', async () => {
      const nginx = await start('tls', rsa.dir);
      for (const cipher of ['AES256-SHA', 'ECDHE-RSA-AES128-SHA']) {
        const result = await tls12(nginx.httpsPort, cipher);
        expect([cipher, result.ok]).toEqual([cipher, false]);
        expect(result.output).toMatch(/handshake failure|no shared cipher|alert/i);
      }
      const gcm = await tls12(nginx.httpsPort, 'ECDHE-RSA-AES128-GCM-SHA256');
      expect(gcm).toMatchObject({ ok: true, protocol: 'TLSv1.2', cipher: 'ECDHE-RSA-AES128-GCM-SHA256' });
      const tls13 = await handshake(nginx.httpsPort, ['-tls1_3']);
      expect(tls13).toMatchObject({ ok: true, protocol: 'TLSv1.3' });
      for (const old of ['-tls1', '-tls1_1']) {
        const result = await handshake(nginx.httpsPort, [old, '-cipher', 'ALL:@SECLEVEL=0']);
        expect([old, result.ok]).toEqual([old, false]);
      }
    });

    test.each([
      ['RSA', () => rsa, ['ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-RSA-CHACHA20-POLY1305']],
      ['ECDSA', () => ecdsa, ['ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-ECDSA-CHACHA20-POLY1305']],
    ])(
      '%s certificate: of every TLS 1.2 suite openssl knows, exactly the ECDHE + AEAD ones are accepted',
      async (_kind, pair, expected) => {
        const nginx = await start('tls', pair().dir);
        const ciphers = allTls12Ciphers();
        // The list must hold what is to be refused, or the check proves nothing.
        expect(ciphers).toEqual(expect.arrayContaining(['AES256-SHA', 'ECDHE-RSA-AES128-SHA', 'ECDHE-ECDSA-AES128-SHA', ...expected]));
        // Offer them all; take out the one the server picks; again, until it refuses: the accepted set in n + 1 handshakes.
        const accepted: string[] = [];
        let offered = ciphers;
        for (;;) {
          const result = await tls12(nginx.httpsPort, offered.join(':'));
          if (!result.ok) break;
          expect(offered).toContain(result.cipher);
          accepted.push(result.cipher!);
          offered = offered.filter((cipher) => cipher !== result.cipher);
        }
        expect(accepted.sort()).toEqual([...expected].sort());
      },
    );
  });

  describe('matomo-live-tls.conf: the port-80 redirect never repeats a token', () => {
    let nginx: SiteNginx;
    beforeAll(async () => {
      nginx = await start('tls', ecdsa.dir);
    });
    const location = async (pathAndQuery: string) => {
      const response = await fetch(`http://127.0.0.1:${nginx.httpPort}${pathAndQuery}`, { redirect: 'manual' });
      expect(response.status).toBe(308);
      return response.headers.get('location')!.replace(`https://127.0.0.1:${nginx.httpsPort}`, '');
    };

    test.each([
      ['/ws?token=SECRET', '/ws'],
      ['/?site=2&token=SECRET', '/'],
      ['/ws?Token=SECRET', '/ws'],
      ['/ws?access_token=SECRET&site=1', '/ws'],
      ['/ws?%74oken=SECRET', '/ws'],
      ['/ws?token', '/ws'],
      ['/a%20b/?token=SECRET', '/a%20b/'],
    ])('%s → %s', async (from, to) => {
      expect(await location(from)).toBe(to);
    });

    test.each([
      ['/dashboard/?site=1', '/dashboard/?site=1'],
      ['/ws?site=2&note=token', '/ws?site=2&note=token'],
      ['/a%20b?x=1', '/a%20b?x=1'],
      ['/ws', '/ws'],
    ])('other query strings are kept: %s → %s', async (from, to) => {
      expect(await location(from)).toBe(to);
    });
  });

  describe('/debug is answered 404 by both sites', () => {
    const debugPaths = ['/debug', '/debug?site=1', '/%64ebug', '//debug'];
    const withToken = { headers: { Authorization: `Bearer ${TOKEN}` } };

    test('the gateway itself serves it to a valid Bearer token (so a 404 below is nginx refusing)', async () => {
      expect((await fetch(`http://127.0.0.1:${gateway.port}/debug`, withToken)).status).toBe(200);
    });

    test('matomo-live.conf', async () => {
      const nginx = await start('plain');
      for (const path of debugPaths) {
        const response = await fetch(`http://127.0.0.1:${nginx.httpPort}${path}`, withToken);
        expect([path, response.status]).toEqual([path, 404]);
      }
      // The site still proxies: /readyz goes through to the gateway.
      expect((await fetch(`http://127.0.0.1:${nginx.httpPort}/readyz`)).status).toBe(200);
    });

    test('matomo-live-tls.conf', async () => {
      const nginx = await start('tls', rsa.dir);
      for (const path of debugPaths) {
        const result = await new Promise<number>((resolve, reject) => {
          // fetch() takes no CA option; https.get does.
          httpsGet(`https://127.0.0.1:${nginx.httpsPort}${path}`, { ca: rsa.cert, ...withToken }, (response) => {
            response.resume();
            resolve(response.statusCode ?? 0);
          }).on('error', reject);
        });
        expect([path, result]).toEqual([path, 404]);
      }
    });
  });
});
