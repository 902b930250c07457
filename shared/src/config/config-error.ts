/**
 * Thrown by the config loaders; carries one line per invalid variable so a
 * service can print exactly those lines and exit, with no stack trace.
 */
export class ConfigError extends Error {
  constructor(public readonly lines: readonly string[]) {
    super(lines.join('\n'));
    this.name = 'ConfigError';
  }
}

/** Exit status for bad configuration (EX_CONFIG from sysexits.h). */
export const CONFIG_EXIT_CODE = 78;

/**
 * Runs `load`; on ConfigError prints its lines to stderr and exits with
 * CONFIG_EXIT_CODE. Any other error is rethrown untouched.
 */
export function loadOrExit<T>(load: () => T, stderr: NodeJS.WritableStream = process.stderr): T {
  try {
    return load();
  } catch (error) {
    if (error instanceof ConfigError) {
      for (const line of error.lines) stderr.write(`config error: ${line}\n`);
      process.exit(CONFIG_EXIT_CODE);
    }
    throw error;
  }
}
