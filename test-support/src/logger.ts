import { Writable } from 'node:stream';
import { createLogger, type Logger } from '@matomo-live/shared';

/** A logger that writes nothing. */
export const silentLogger: Logger = createLogger({ name: 'test', level: 'silent' });

/** A logger whose JSON lines are kept for assertions. */
export function capturedLogger(level: 'debug' | 'info' = 'debug'): {
  logger: Logger;
  text: () => string;
  lines: () => Array<Record<string, unknown>>;
} {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const logger = createLogger({ name: 'test', level, destination });
  const text = () => chunks.join('');
  return {
    logger,
    text,
    lines: () =>
      text()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}
