import { cleanEnv, EnvMissingError } from 'envalid';
import { ConfigError } from './config-error';
import type { RawEnv } from './read-env';

/**
 * envalid's cleanEnv with our reporting: every invalid or missing variable
 * becomes one line naming it, collected into a single ConfigError, instead
 * of envalid's multi-line banner and process.exit.
 */
export function cleanOrThrow<S extends object>(env: RawEnv, specs: S): ReturnType<typeof cleanEnv<S>> {
  // envalid treats "" as a value; a variable set to nothing in compose files means "unset".
  const nonEmpty: RawEnv = {};
  for (const [k, v] of Object.entries(env)) if (v !== '') nonEmpty[k] = v;
  return cleanEnv(nonEmpty, specs, {
    reporter: ({ errors }) => {
      const lines = Object.entries(errors).map(([name, error]) => describe(name, error as Error, specs));
      if (lines.length > 0) throw new ConfigError(lines);
    },
  });
}

function describe(name: string, error: Error, specs: object): string {
  const spec = (specs as Record<string, { desc?: string; example?: string }>)[name];
  if (error instanceof EnvMissingError) {
    const hint = spec?.example ? ` (e.g. ${spec.example})` : '';
    return `${name}: required but not set${spec?.desc ? ` — ${spec.desc}` : ''}${hint}`;
  }
  return `${name}: ${error.message.replace(/\s+/g, ' ').trim()}`;
}

/**
 * cleanOrThrow, with `crossErrors` (checks across variables, made on the raw
 * values) reported in the same ConfigError as envalid's lines, so one run
 * names every bad variable. The caller still throws `crossErrors` alone when
 * envalid found nothing.
 */
export function cleanOrThrowWith<S extends object>(env: RawEnv, specs: S, crossErrors: readonly string[]): ReturnType<typeof cleanEnv<S>> {
  try {
    return cleanOrThrow(env, specs);
  } catch (error) {
    if (error instanceof ConfigError) throw new ConfigError([...error.lines, ...crossErrors]);
    throw error;
  }
}
