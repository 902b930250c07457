import type { Logger } from './logger';

export interface ShutdownOptions {
  logger: Logger;
  /** Signals that start a graceful shutdown. Default SIGTERM and SIGINT. */
  signals?: readonly NodeJS.Signals[];
  /** Hard deadline after the first signal, ms; then exit 1 whatever is still running. */
  deadlineMs: number;
  /** Default process.exit. */
  exit?: (code: number) => void;
}

/**
 * The one place that handles signals: the first one runs `shutdown` and exits 0
 * (1 when it throws or misses the deadline); a second one exits at once.
 * Returns a function that removes the handlers.
 */
export function exitOnSignals(
  shutdown: () => Promise<void>,
  { logger, signals = ['SIGTERM', 'SIGINT'], deadlineMs, exit = (code) => process.exit(code) }: ShutdownOptions,
): () => void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      return exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    setTimeout(() => {
      logger.error({ deadlineMs }, 'shutdown missed its deadline; exiting');
      exit(1);
    }, deadlineMs).unref();
    shutdown().then(
      () => {
        logger.info('stopped');
        logger.flush(() => exit(0));
      },
      (error: Error) => {
        logger.error({ err: error }, 'shutdown failed');
        logger.flush(() => exit(1));
      },
    );
  };
  for (const signal of signals) process.on(signal, onSignal);
  return () => {
    for (const signal of signals) process.off(signal, onSignal);
  };
}
