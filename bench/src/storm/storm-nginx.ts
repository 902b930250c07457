/**
 * NGINX as shipped, on this host: deploy/nginx/matomo-live.conf with only
 * what a host without Docker cannot have rewritten, textually — its one
 * `server gateway:8080 …;` line becomes one line per local backend (same
 * parameters), `listen 80` a loopback port, /var/log/nginx/ a temp dir — and
 * deploy/nginx/nginx.conf (the main config compose mounts) with its paths
 * moved into that dir too. Debian's nginx (1.22) runs it.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runNginxIn } from '../common/nginx';
import { freePort } from '../processes';

export interface ShippedNginx {
  port: number;
  dir: string;
  stop(): Promise<void>;
}

/** Replaces `from` in `text`, failing unless it occurs exactly `times` times (the shipped file changed shape). */
export function rewriteExactly(text: string, from: string | RegExp, to: string, times = 1): string {
  const pattern = typeof from === 'string' ? new RegExp(from.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'g') : from;
  const found = text.match(pattern)?.length ?? 0;
  if (found !== times) throw new Error(`expected ${times} × ${String(from)} in the NGINX config, found ${found}`);
  return text.replace(pattern, to);
}

/** The shipped site file with `server gateway:8080 <params>;` turned into one line per backend port. */
export function siteForBackends(site: string, backendPorts: number[], listenPort: number, logDir: string): string {
  let text = site.replace(/^\s*#.*$/gm, '');
  const line = /^(\s*)server gateway:8080( [^;]*)?;$/m.exec(text);
  if (!line) throw new Error('the site file has no `server gateway:8080 …;` line');
  text = rewriteExactly(text, line[0], backendPorts.map((p) => `${line[1]}server 127.0.0.1:${p}${line[2] ?? ''};`).join('\n'));
  text = rewriteExactly(text, /\blisten 80\b/g, `listen 127.0.0.1:${listenPort}`);
  return text.replace(/\/var\/log\/nginx\//g, `${logDir}/`);
}

/**
 * The main config: deploy/nginx/nginx.conf when it exists (paths rewritten into `dir`), else what the
 * benchmark used before one was shipped (enough connections, nothing else). `include` of conf.d is the site.
 */
export function mainConfig(root: string, dir: string): string {
  const shipped = join(root, 'deploy/nginx/nginx.conf');
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((kind) => `${kind}_temp_path ${dir}/tmp/${kind};`).join(' ');
  if (!existsSync(shipped)) {
    return `worker_processes auto;\nworker_rlimit_nofile 65536;\ndaemon off;\npid ${dir}/nginx.pid;\nerror_log ${dir}/error.log warn;\nevents { worker_connections 32768; }\nhttp {\n  ${temp}\n  include ${dir}/site.conf;\n}\n`;
  }
  let text = readFileSync(shipped, 'utf8').replace(/^\s*#.*$/gm, '');
  text = text.replace(/^\s*pid [^;]+;/m, `pid ${dir}/nginx.pid;`);
  text = text.replace(/\/var\/log\/nginx\//g, `${dir}/`);
  text = rewriteExactly(text, /include \/etc\/nginx\/conf\.d\/\*\.conf;/g, `${temp}\n  include ${dir}/site.conf;`);
  text = text.replace(/include \/etc\/nginx\/mime\.types;/, '');
  return `daemon off;\n${text}`;
}

/** Starts nginx with the shipped files in front of `backendPorts`; `siteFile` overrides the site file (before/after runs). */
export async function startShippedNginx(root: string, backendPorts: number[], siteFile?: string): Promise<ShippedNginx> {
  const dir = mkdtempSync(join(tmpdir(), 'storm-nginx-'));
  mkdirSync(join(dir, 'tmp'));
  const port = await freePort();
  const site = readFileSync(siteFile ?? join(root, 'deploy/nginx/matomo-live.conf'), 'utf8');
  writeFileSync(join(dir, 'site.conf'), siteForBackends(site, backendPorts, port, dir));
  writeFileSync(join(dir, 'nginx.conf'), mainConfig(root, dir));
  return { ...(await runNginxIn(dir, port)), dir };
}
