import { once } from 'node:events';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DASHBOARD_CSP, serveStatic } from '../../src/http/static-files';
import { httpGet } from '../support/harness';

let server: Server;
let port: number;
let root: string;

beforeAll(async () => {
  const parent = mkdtempSync(join(tmpdir(), 'gw-static-'));
  root = join(parent, 'dashboard');
  mkdirSync(join(root, 'assets'), { recursive: true });
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>dash</title>');
  writeFileSync(join(root, 'assets', 'app.js'), 'console.log(1)');
  writeFileSync(join(parent, 'secret.txt'), 'do not serve');
  server = createServer((req, res) => serveStatic(root, '/dashboard/', req, res));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as { port: number }).port;
});

afterAll(() => server.close());

/** Sends the path byte for byte (http.request would normalize nothing, but be explicit). */
async function rawStatus(path: string): Promise<number> {
  const socket = connect(port, '127.0.0.1');
  socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
  let text = '';
  socket.on('data', (c: Buffer) => (text += c.toString()));
  await once(socket, 'end');
  return Number(text.split(' ')[1]);
}

describe('serveStatic', () => {
  it('serves index.html and assets with types, caching and the CSP', async () => {
    const index = await httpGet(port, '/dashboard/');
    expect(index).toMatchObject({ status: 200, body: '<!doctype html><title>dash</title>' });
    expect(index.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(index.headers['cache-control']).toBe('no-cache');
    expect(index.headers['content-security-policy']).toBe(DASHBOARD_CSP);
    const js = await httpGet(port, '/dashboard/assets/app.js?v=1');
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['cache-control']).toContain('max-age=');
  });

  it.each([
    '/dashboard/../secret.txt',
    '/dashboard/%2e%2e/secret.txt',
    '/dashboard/..%2fsecret.txt',
    '/dashboard/%2e%2e%5csecret.txt',
    '/dashboard/nope.js',
    '/dashboard/assets',
  ])('does not serve %s', async (path) => {
    expect([400, 404]).toContain(await rawStatus(path));
  });
});
