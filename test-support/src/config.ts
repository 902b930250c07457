import { ConfigError } from '@matomo-live/shared';

/** The lines of the ConfigError that `load` throws; fails if it throws nothing or something else. */
export function configErrorLines(load: () => unknown): string[] {
  try {
    load();
  } catch (error) {
    if (error instanceof ConfigError) return [...error.lines];
    throw error;
  }
  throw new Error('expected a ConfigError');
}
