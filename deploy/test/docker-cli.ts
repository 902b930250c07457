/**
 * The docker and compose command lines, for tests that drive a real Docker
 * engine: is there one, can it get the base images, build an image (timed),
 * run a compose project, read what the engine says about it, and remove what
 * a test made.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** The repository root: the compose file and the build context. */
export const REPO_ROOT = resolve(__dirname, '..', '..');

export interface CommandResult {
  stdout: string;
  stderr: string;
}

/** Runs a command; rejects with its exit status and the tail of stderr. */
export function run(
  file: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string } = {},
): Promise<CommandResult> {
  return new Promise((resolvePromise, reject) => {
    const child = execFile(
      file,
      args,
      { cwd: REPO_ROOT, env: options.env ?? process.env, timeout: options.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) {
          const tail = `${stderr}`.trim().split('\n').slice(-30).join('\n');
          reject(new Error(`${file} ${args.join(' ')} failed (${error.code ?? error.signal}):\n${tail}`));
        } else {
          resolvePromise({ stdout: `${stdout}`, stderr: `${stderr}` });
        }
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** The compose command line here, engine or not: `docker compose` (v2), else Debian's `docker-compose` 1.29. */
export function composeCli(): readonly string[] | undefined {
  if (spawnSync('docker', ['compose', 'version'], { encoding: 'utf8', timeout: 20_000 }).status === 0) return ['docker', 'compose'];
  if (spawnSync('docker-compose', ['version'], { encoding: 'utf8', timeout: 20_000 }).status === 0) return ['docker-compose'];
  return undefined;
}

export type DockerSupport = { ok: true; compose: readonly string[] } | { ok: false; reason: string };

/**
 * A reachable engine and a compose CLI: `docker compose` (v2) when present,
 * else Debian's `docker-compose` 1.29.
 */
export function detectDocker(): DockerSupport {
  const info = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], { encoding: 'utf8', timeout: 20_000 });
  if (info.error || info.status !== 0) {
    return { ok: false, reason: `no Docker engine (docker info: ${info.error?.message ?? info.stderr.trim().split('\n').pop()})` };
  }
  const compose = composeCli();
  return compose ? { ok: true, compose } : { ok: false, reason: 'a Docker engine but neither `docker compose` nor `docker-compose`' };
}

export interface BuiltImage {
  tag: string;
  seconds: number;
  megabytes: number;
}

/**
 * The base images the stack needs, as this machine would get them: the
 * official ones unless NODE_IMAGE / REDIS_IMAGE / NGINX_IMAGE name others.
 */
export function baseImages(env: NodeJS.ProcessEnv = process.env): string[] {
  return [env.NODE_IMAGE || 'node:22-bookworm-slim', env.REDIS_IMAGE || 'redis:7', env.NGINX_IMAGE || 'nginx:1.27'];
}

/**
 * Each image present or pulled; undefined when all are there, else why not
 * (no registry, an unknown name): a reason to skip, not a failure of ours.
 */
export function missingImages(images: readonly string[]): string | undefined {
  const problems: string[] = [];
  for (const image of images) {
    if (spawnSync('docker', ['image', 'inspect', image], { stdio: 'ignore', timeout: 20_000 }).status === 0) continue;
    const pull = spawnSync('docker', ['pull', '--quiet', image], { encoding: 'utf8', timeout: 10 * 60_000 });
    if (pull.status !== 0)
      problems.push(`${image} is not here and cannot be pulled (${(pull.stderr || pull.error?.message || '').trim().split('\n').pop()})`);
  }
  return problems.length > 0 ? problems.join('; ') : undefined;
}

/**
 * Removes images a test built. `--no-prune` keeps their untagged parent
 * layers, which are the build cache: the next run builds in seconds. They
 * are shown as <none> by `docker images -a`; `docker image prune` frees them.
 */
export async function removeImages(tags: readonly string[]): Promise<void> {
  const present = [];
  for (const tag of tags) if (spawnSync('docker', ['image', 'inspect', tag], { stdio: 'ignore' }).status === 0) present.push(tag);
  if (present.length > 0) await run('docker', ['image', 'rm', '--no-prune', ...present]);
}

/** `docker build` of one of the repository's Dockerfiles, timed and sized. */
export async function buildImage(dockerfile: string, tag: string, env: NodeJS.ProcessEnv): Promise<BuiltImage> {
  const args = ['build', '-f', dockerfile, '-t', tag, '--label', 'matomo-live.test=e2e'];
  if (env.NODE_IMAGE) args.push('--build-arg', `NODE_IMAGE=${env.NODE_IMAGE}`);
  if (env.DOCKER_BUILD_NETWORK) args.push('--network', env.DOCKER_BUILD_NETWORK);
  const started = Date.now();
  await run('docker', [...args, '.'], { env, timeoutMs: 15 * 60_000 });
  const seconds = (Date.now() - started) / 1000;
  const { stdout } = await run('docker', ['image', 'inspect', '--format', '{{.Size}}', tag], { env });
  return { tag, seconds, megabytes: Number(stdout.trim()) / 1e6 };
}

export interface ComposeOptions {
  /**
   * The env file compose reads instead of the checkout's .env (a developer's
   * own .env must not leak into a test's stack); default: an empty one.
   * Exported variables (`env`) win over it, as for users.
   */
  envFile?: string;
  /** Compose files, default docker-compose.yml alone. */
  files?: readonly string[];
}

/** One compose project: its own name, environment and containers. */
export class ComposeProject {
  private readonly envFile: string;
  files: readonly string[];

  constructor(
    private readonly composeCli: readonly string[],
    readonly name: string,
    readonly env: NodeJS.ProcessEnv,
    { envFile, files = ['docker-compose.yml'] }: ComposeOptions = {},
  ) {
    this.files = files;
    if (envFile) {
      this.envFile = envFile;
    } else {
      this.envFile = join(mkdtempSync(join(tmpdir(), 'matomo-live-compose-')), 'empty.env');
      writeFileSync(this.envFile, '');
    }
  }

  /** `compose --env-file FILE -f … -p NAME ARGS` (compose 1.29 wants a real file for --env-file). */
  compose(args: readonly string[], timeoutMs = 300_000): Promise<CommandResult> {
    const [file, ...prefix] = this.composeCli;
    const files = this.files.flatMap((f) => ['-f', f]);
    return run(file!, [...prefix, '--env-file', this.envFile, ...files, '-p', this.name, ...args], { env: this.env, timeoutMs });
  }

  /** `compose up ARGS`; a failure carries the last 40 log lines of every service. */
  async up(args: readonly string[], timeoutMs: number): Promise<void> {
    try {
      await this.compose(['up', ...args], timeoutMs);
    } catch (error) {
      const logs = await this.compose(['logs', '--no-color', '--tail', '40']).catch((e: Error) => ({ stdout: e.message }));
      throw new Error(`${(error as Error).message}\n--- compose logs ---\n${logs.stdout}`, { cause: error });
    }
  }

  /** Ids of the project's containers of one service (running or not, with `all`). */
  async containerIds(service?: string, all = false): Promise<string[]> {
    const filters = ['--filter', `label=com.docker.compose.project=${this.name}`];
    if (service) filters.push('--filter', `label=com.docker.compose.service=${service}`);
    const { stdout } = await run('docker', ['ps', ...(all ? ['-a'] : []), '-q', '--no-trunc', ...filters]);
    return lines(stdout);
  }

  /** The running container of a service (the first, for a scaled one). */
  async containerOf(service: string): Promise<string> {
    const [id] = await this.containerIds(service);
    if (!id) throw new Error(`no running ${service} container`);
    return id;
  }

  /** A new visit with `city` in the project's simulator (matomo-sim, the demo profile); the poller's next tick publishes it. */
  async addSimVisit(city: string): Promise<void> {
    await httpInContainer(await this.containerOf('matomo-sim'), 'http://127.0.0.1:8090/_sim/visits', {
      method: 'POST',
      body: { city, latitude: 48.85, longitude: 2.35 },
    });
  }

  /** Networks and volumes compose created for the project. */
  async leftovers(): Promise<{ containers: string[]; networks: string[]; volumes: string[] }> {
    const label = `label=com.docker.compose.project=${this.name}`;
    const [containers, networks, volumes] = await Promise.all([
      this.containerIds(undefined, true),
      run('docker', ['network', 'ls', '-q', '--filter', label]).then((r) => lines(r.stdout)),
      run('docker', ['volume', 'ls', '-q', '--filter', label]).then((r) => lines(r.stdout)),
    ]);
    return { containers, networks, volumes };
  }

  /** The health status of each container of a service ("healthy", "starting", …). */
  async health(service: string): Promise<string[]> {
    const ids = await this.containerIds(service);
    if (ids.length === 0) return [];
    const { stdout } = await run('docker', [
      'inspect',
      '--format',
      '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}',
      ...ids,
    ]);
    return lines(stdout);
  }
}

/** Runs a node one-liner inside a container and returns what it prints. */
export async function nodeInContainer(containerId: string, script: string): Promise<string> {
  const { stdout } = await run('docker', ['exec', containerId, 'node', '-e', script], { timeoutMs: 30_000 });
  return stdout;
}

/** An HTTP request made from inside a container (its ports are not published). */
export function httpInContainer(containerId: string, url: string, init: { method?: string; body?: unknown } = {}): Promise<string> {
  const options = JSON.stringify({
    method: init.method ?? 'GET',
    headers: { 'content-type': 'application/json' },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  return nodeInContainer(
    containerId,
    `fetch(${JSON.stringify(url)}, ${options}).then(async (r) => { const t = await r.text(); if (!r.ok) { console.error(r.status, t); process.exit(1); } process.stdout.write(t); }, (e) => { console.error(e.message); process.exit(1); })`,
  );
}

function lines(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
}

/**
 * The open-files limit the compose stack may ask for (NOFILE_LIMIT): the
 * shipped default, 16384, or less when the Docker daemon's own hard limit is lower (a container cannot
 * get more than its daemon has without CAP_SYS_RESOURCE; this CI machine's has 20000).
 */
export function composeNofileLimit(): string {
  try {
    const pid = execFileSync('pidof', ['dockerd'], { encoding: 'utf8' }).trim().split(' ')[0];
    const line = readFileSync(`/proc/${pid}/limits`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const hard = Number(line?.trim().split(/\s+/)[4]);
    return String(Number.isSafeInteger(hard) ? Math.min(16384, hard) : 16384);
  } catch {
    return '16384';
  }
}
