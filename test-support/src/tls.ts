/** Self-signed certificates for TLS tests, made by the script users try TLS with (deploy/nginx/self-signed-cert.sh). */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './processes';

export interface SelfSignedPair {
  dir: string;
  /** `<dir>/fullchain.pem` */
  certPath: string;
  /** `<dir>/privkey.pem` */
  keyPath: string;
  /** The certificate's PEM: the CA a client trusts to reach the server. */
  cert: Buffer;
}

export function hasOpenssl(): boolean {
  return spawnSync('openssl', ['version']).status === 0;
}

/** A pair for localhost and 127.0.0.1 (plus `names`) in a new temporary directory, or in `dir`. */
export function selfSignedPair(names: string[] = [], dir = mkdtempSync(join(tmpdir(), 'matomo-live-tls-'))): SelfSignedPair {
  execFileSync('sh', [join(REPO_ROOT, 'deploy', 'nginx', 'self-signed-cert.sh'), dir, ...names], { stdio: ['ignore', 'ignore', 'pipe'] });
  // mkdtemp makes it 0700: a server in a container, as another user, must reach the files (as in a users' ./certs).
  chmodSync(dir, 0o755);
  const certPath = join(dir, 'fullchain.pem');
  return { dir, certPath, keyPath: join(dir, 'privkey.pem'), cert: readFileSync(certPath) };
}
