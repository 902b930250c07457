/** A private NGINX (the installed binary, a generated config in a temp dir) balancing WebSockets over local gateways. */
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startProcess, waitForPort } from '../processes';

export interface RunningNginx {
  port: number;
  stop(): Promise<void>;
}

/** The WebSocket proxy settings deploy/ recommends in essence: HTTP/1.1 upgrade, no buffering, long read timeout. */
export function nginxConfig(dir: string, port: number, upstreamPorts: number[]): string {
  return `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 16384; }
http {
  access_log off;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  map $http_upgrade $connection_upgrade { default upgrade; '' close; }
  upstream gateways {
    least_conn;
${upstreamPorts.map((p) => `    server 127.0.0.1:${p};`).join('\n')}
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://gateways;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_buffering off;
      proxy_read_timeout 3600s;
    }
  }
}
`;
}

export async function startNginx(upstreamPorts: number[]): Promise<RunningNginx> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-nginx-'));
  mkdirSync(join(dir, 'tmp'));
  const port = await freePort();
  writeFileSync(join(dir, 'nginx.conf'), nginxConfig(dir, port, upstreamPorts));
  return runNginxIn(dir, port);
}

/** Runs nginx on `dir`/nginx.conf until it listens on `port`; stopping it (or a failed start) removes `dir`. */
export async function runNginxIn(dir: string, port: number): Promise<RunningNginx> {
  const nginx = startProcess('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')]);
  try {
    await waitForPort(port, nginx);
  } catch (error) {
    await nginx.stop();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    port,
    async stop() {
      // SIGTERM is NGINX's fast shutdown: the master ends its workers before it exits.
      await nginx.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
