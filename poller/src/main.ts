#!/usr/bin/env node
/** `node poller/dist/main.js`: the poller process; SIGTERM/SIGINT stop it cleanly (leases released) and exit 0. */
import { exitOnSignals } from '@matomo-live/shared';
import { startPollerProcess } from './poller-process';

/** Stopping takes at most one in-flight Matomo request plus the lease release. */
const SHUTDOWN_DEADLINE_MS = 10_000;

startPollerProcess(process.env).then(
  (proc) => exitOnSignals(() => proc.shutdown(), { logger: proc.logger, deadlineMs: SHUTDOWN_DEADLINE_MS }),
  (error: Error) => {
    process.stderr.write(`poller failed to start: ${error.message}\n`);
    process.exit(1);
  },
);
