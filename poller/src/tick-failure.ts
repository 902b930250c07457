import { AnswerShapeError } from './matomo-answers';
import { MatomoRequestError } from './matomo-client';
import type { PartState } from './part-state';
import type { TickFailureKind } from './poller-status';

/** Why one site (or the whole tick) was not published: a kind for /healthz and a message. */
export class TickFailure extends Error {
  constructor(
    readonly kind: TickFailureKind,
    message: string,
    cause?: unknown,
  ) {
    super(message, { cause });
    this.name = 'TickFailure';
  }

  /** A failure of the given kind for an expected error class, else an `internal` one carrying the error as cause. */
  static of(error: unknown, expected: TickFailureKind | undefined, prefix = ''): TickFailure {
    const message = `${prefix}${error instanceof Error ? error.message : String(error)}`;
    return new TickFailure(expected ?? 'internal', message, error);
  }

  /** A failure reading a Matomo answer: its Matomo kind, `shape` for a surprising answer, else `internal`. */
  static reading(error: unknown): TickFailure {
    const kind = error instanceof MatomoRequestError ? error.kind : error instanceof AnswerShapeError ? 'shape' : undefined;
    return TickFailure.of(error, kind);
  }

  /** A site cannot be published without this part, which has never worked: why, with its latest failure. */
  static missing(part: PartState<unknown>, what: string): TickFailure {
    return new TickFailure(
      (part.lastKind as TickFailureKind | undefined) ?? 'shape',
      part.lastError === undefined ? `${what}: not fetched yet` : `${what}: ${part.lastError}`,
    );
  }
}

/** The publisher (Redis) failed or kept refusing; anything else thrown while publishing is a bug. */
export class PublishError extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, { cause });
    this.name = 'PublishError';
  }

  /** Wraps what the publisher threw. */
  static of(error: unknown): PublishError {
    return new PublishError(error instanceof Error ? error.message : String(error), error);
  }
}
