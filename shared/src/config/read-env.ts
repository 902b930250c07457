import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { ConfigError } from './config-error';

export type RawEnv = Record<string, string | undefined>;

export interface ReadEnvOptions {
  /** Directory whose `.env` file is read when present. Default: process.cwd(). */
  cwd?: string;
  /** Read `.env` at all. Default: true. */
  dotenv?: boolean;
  /**
   * Only these variables (and their `_FILE` forms) are read; others are left
   * out, so an unrelated `*_FILE` in the environment (e.g. TF_CLI_CONFIG_FILE)
   * is never opened. Default: all.
   */
  names?: readonly string[];
}

/**
 * The environment a service sees: `.env` from the working directory (when
 * present, never required) underneath the real environment, which always wins;
 * then every `NAME_FILE` variable is replaced by the file's content as `NAME`
 * (Docker and Kubernetes secrets). Setting both NAME and NAME_FILE is an error,
 * because silently preferring one hides a deployment mistake.
 */
export function readEnv(env: RawEnv = process.env, options: ReadEnvOptions = {}): RawEnv {
  const merged: RawEnv = onlyNames({ ...readDotenv(options), ...definedOnly(env) }, options.names);
  const errors: string[] = [];
  for (const [key, path] of Object.entries(merged)) {
    if (!key.endsWith('_FILE') || path === undefined || path === '') continue;
    const name = key.slice(0, -'_FILE'.length);
    if (merged[name] !== undefined && merged[name] !== '') {
      errors.push(`${key}: set together with ${name}; set only one of them`);
      continue;
    }
    try {
      merged[name] = readFileSync(path, 'utf8').replace(/\r?\n$/, '');
    } catch (error) {
      errors.push(`${key}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  if (errors.length > 0) throw new ConfigError(errors);
  return merged;
}

function readDotenv({ cwd = process.cwd(), dotenv = true }: ReadEnvOptions): RawEnv {
  if (!dotenv) return {};
  let text: string;
  try {
    text = readFileSync(join(cwd, '.env'), 'utf8');
  } catch {
    return {};
  }
  return parseEnv(text);
}

function onlyNames(env: RawEnv, names: readonly string[] | undefined): RawEnv {
  if (names === undefined) return env;
  const out: RawEnv = {};
  for (const name of names) {
    if (env[name] !== undefined) out[name] = env[name];
    if (env[`${name}_FILE`] !== undefined) out[`${name}_FILE`] = env[`${name}_FILE`];
  }
  return out;
}

function definedOnly(env: RawEnv): RawEnv {
  const out: RawEnv = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}
