/**
 * A shipped NGINX site file (deploy/nginx/matomo-live.conf or
 * matomo-live-tls.conf) in the installed nginx, in front of a gateway on this
 * host. Only what the host cannot have is rewritten: the upstream address,
 * the listen ports, the certificate, log and settings paths.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MemorySnapshots } from '@matomo-live/test-support/gateway';
import { freePort } from '@matomo-live/test-support/net';
import { REPO_ROOT, startProcess } from '@matomo-live/test-support/processes';
import { hasOpenssl } from '@matomo-live/test-support/tls';
import { waitFor } from '@matomo-live/test-support/wait-for';
import { mainConfig } from '../../bench/src/storm/storm-nginx';

export const NGINX_DIR = join(REPO_ROOT, 'deploy', 'nginx');
export const PLAIN_SITE = readFileSync(join(NGINX_DIR, 'matomo-live.conf'), 'utf8');
export const TLS_SITE = readFileSync(join(NGINX_DIR, 'matomo-live-tls.conf'), 'utf8');

/** What this host lacks to run the site files ('' when nothing): nginx, openssl. */
export const missingForNginx = (): string[] =>
  [spawnSync('nginx', ['-v']).status === 0 ? '' : 'nginx', hasOpenssl() ? '' : 'openssl'].filter(Boolean);

/** Replaces `from` in `text`, failing unless it occurs exactly `times` times (the site file changed shape). */
export function rewrite(text: string, from: string, to: string, times = 1): string {
  const found = text.split(from).length - 1;
  if (found !== times) throw new Error(`expected ${times} × "${from}" in the site file, found ${found}`);
  return text.split(from).join(to);
}

export interface SiteNginx {
  httpPort: number;
  httpsPort: number;
  stop(): Promise<void>;
}

export interface SiteNginxOptions {
  site: 'plain' | 'tls';
  /** The gateway's port on 127.0.0.1, or several gateways' (the upstream gets one server line each). */
  upstreamPort: number | number[];
  /** TLS: the directory with fullchain.pem and privkey.pem. */
  certDir?: string;
  /** TLS: the environment tls-settings.sh reads (HTTPS_PORT defaults to the test's port). */
  env?: Record<string, string>;
}

/** Starts nginx on the site file and waits for /healthz; stop() ends it and removes its directory. */
export async function startSiteNginx({ site, upstreamPort, certDir, env = {} }: SiteNginxOptions): Promise<SiteNginx> {
  const dir = mkdtempSync(join(tmpdir(), 'nginx-site-'));
  mkdirSync(join(dir, 'tmp'));
  const [httpPort, httpsPort] = [await freePort(), await freePort()];
  // Comment lines go first: only directives are rewritten (and counted).
  let text = (site === 'plain' ? PLAIN_SITE : TLS_SITE).replace(/^\s*#.*$/gm, '');
  const servers = [upstreamPort].flat().map((port) => `server 127.0.0.1:${port} max_fails=0;`);
  text = rewrite(text, 'server gateway:8080 max_fails=0;', servers.join('\n    '));
  text = rewrite(text, 'listen 80 default_server;', `listen 127.0.0.1:${httpPort} default_server;`);
  text = rewrite(text, '/var/log/nginx/', `${dir}/`, site === 'plain' ? 2 : 4);
  if (site === 'tls') {
    if (certDir === undefined) throw new Error('the TLS site needs a certDir');
    text = rewrite(text, 'listen 443 ssl default_server;', `listen 127.0.0.1:${httpsPort} ssl default_server;`);
    text = rewrite(text, '/etc/nginx/certs/', `${certDir}/`, 2);
    text = rewrite(text, 'include /run/matomo-live/tls-env.conf;', `include ${dir}/tls-env.conf;`);
    const settings = spawnSync('sh', [join(NGINX_DIR, 'tls-settings.sh'), join(dir, 'tls-env.conf')], {
      env: { PATH: process.env.PATH, HTTPS_PORT: String(httpsPort), ...env },
      encoding: 'utf8',
    });
    if (settings.status !== 0) throw new Error(`tls-settings.sh: ${settings.stderr}`);
  }
  writeFileSync(join(dir, 'site.conf'), text);
  // The shipped main file, with its paths moved into the temp dir (as the storm benchmark runs it).
  writeFileSync(join(dir, 'nginx.conf'), mainConfig(REPO_ROOT, dir));
  const check = spawnSync('nginx', ['-t', '-p', dir, '-c', join(dir, 'nginx.conf')], { encoding: 'utf8' });
  if (check.status !== 0 || !check.stderr.includes('syntax is ok') || /\[warn\]/.test(check.stderr)) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`nginx -t on the ${site} site: ${check.stderr}`);
  }
  const nginx = startProcess('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')]);
  const stop = async () => {
    // SIGTERM, not SIGKILL: nginx's master ends its workers before it exits (killed, it would orphan them).
    if (nginx.child.exitCode === null) nginx.child.kill('SIGTERM');
    await nginx.exited;
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(async () => {
      if (nginx.child.exitCode !== null) throw new Error(`nginx exited: ${nginx.output()}`);
      return fetch(`http://127.0.0.1:${httpPort}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
    }, 'nginx to answer /healthz');
  } catch (error) {
    await stop();
    throw error;
  }
  return { httpPort, httpsPort, stop };
}

type Content = Parameters<MemorySnapshots['publishContent']>[1];
const day = (date: string) => ({
  visits: 1,
  time_spent: '00:01:00',
  date,
  time_spent_seconds: 60,
  actions: 1,
  unique_visitors: 1,
  bounce_count: 0,
});
/** The snapshot content the gateway behind a site serves for site 1. */
export const SITE_CONTENT: Content = {
  visits_live: [],
  summary: { today: day('2026-11-22'), yesterday: day('2026-11-21'), day_before: day('2026-11-20') },
  counters: null,
  site: 1,
  timezone: 'Europe/Paris',
};
