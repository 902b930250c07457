#!/usr/bin/env node
/** `node poller/dist/main.js`: the poller process; SIGTERM/SIGINT stop it cleanly (leases released) and exit 0. */
import { startPollerProcess } from './poller-process';

const SHUTDOWN_DEADLINE_MS = 10_000;

async function main(): Promise<void> {
  const proc = await startPollerProcess(process.env);
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) return process.exit(1);
    stopping = true;
    proc.logger.info({ signal }, 'shutting down');
    setTimeout(() => process.exit(1), SHUTDOWN_DEADLINE_MS).unref();
    proc.shutdown().then(
      () => proc.logger.flush(() => process.exit(0)),
      (error: Error) => {
        proc.logger.error({ err: error.message }, 'shutdown failed');
        proc.logger.flush(() => process.exit(1));
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

main().catch((error: Error) => {
  process.stderr.write(`poller failed to start: ${error.message}\n`);
  process.exit(1);
});
