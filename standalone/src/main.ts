#!/usr/bin/env node
/** `npm start` (`node standalone/dist/main.js`): poller and gateway in one process; SIGTERM/SIGINT drain and exit 0. */
import { exitOnSignals } from '@matomo-live/shared';
import { startSingleProcess } from './single-process';

startSingleProcess().then(
  (running) => exitOnSignals(running.shutdown, { logger: running.logger, deadlineMs: running.shutdownDeadlineMs }),
  (error: Error) => {
    process.stderr.write(`matomo-live failed to start: ${error.message}\n`);
    process.exit(1);
  },
);
