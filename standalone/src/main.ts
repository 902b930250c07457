#!/usr/bin/env node
/** `npm start` (`node standalone/dist/main.js`): poller and gateway in one process; SIGTERM/SIGINT drain and exit 0, SIGHUP reloads the tokens. */
import { exitOnSignals } from '@matomo-live/shared';
import { startSingleProcess } from './single-process';

startSingleProcess().then(
  (running) => {
    exitOnSignals(running.shutdown, { logger: running.logger, deadlineMs: running.shutdownDeadlineMs });
    // SIGHUP re-reads the gateway's token files and JWT_JWKS_URL (docs/OPERATIONS.md, "Rotation"), as in gateway/dist/main.js.
    process.on('SIGHUP', () => void running.gateway.reloadTokens());
  },
  (error: Error) => {
    process.stderr.write(`matomo-live failed to start: ${error.message}\n`);
    process.exit(1);
  },
);
