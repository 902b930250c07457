import type { Clock, SnapshotContent } from '@matomo-live/protocol';
import {
  contentDigest,
  encodeSnapshot,
  type EventsWrite,
  type Logger,
  type PollerConfig,
  type SnapshotPublisher,
} from '@matomo-live/shared';
import { cursorAfterIso, forgetLeadState, type SiteState } from './site-state';
import { MAX_SEQ } from './publish-script-args';
import { PublishError } from './tick-failure';
import { cursorFromStore, type CursorStep } from './visit-cursor';

/** What a site's publish did: stored and published, found unchanged, or refused because another poller leads. */
export type PublishOutcome = 'published' | 'unchanged' | 'not-leader';

/** Publish attempts per site and tick (a seq behind or a stale cursor asks again). */
const PUBLISH_ATTEMPTS = 5;

export interface PublishDeps {
  publisher: SnapshotPublisher;
  /** The lease owner to fence with; undefined without leases. */
  leaseOwner: string | undefined;
  clock: Clock;
  log: Logger;
  config: Pick<PollerConfig, 'eventsRetentionMs' | 'eventsMaxLen' | 'eventsPerTick'>;
  /** Called once per snapshot published (a change). */
  onPublished: () => void;
}

/**
 * Stores and publishes `content` unless Redis holds the same digest; seq =
 * max(clock, last seen + 1). With a cursor `step`, its events and the
 * cursor's move go in the same atomic write; a stored cursor other than
 * ours (a failover rolled it back, or another poller wrote it) refuses
 * them: the cursor is read again and this tick's events dropped — the
 * next tick asks again from the stored position, so nothing is lost or
 * repeated. Resolves with what it did; throws PublishError when the
 * publisher fails or keeps refusing.
 */
export async function publishSite(
  deps: PublishDeps,
  siteId: number,
  state: SiteState,
  content: SnapshotContent,
  now: number,
  step?: CursorStep,
): Promise<PublishOutcome> {
  const { publisher, clock, log } = deps;
  const digest = contentDigest(content);
  if (digest !== state.lastDigest) {
    state.lastDigest = digest;
    state.digestSeenAt = now;
  }
  let pending = step;
  for (let attempt = 0; attempt < PUBLISH_ATTEMPTS; attempt++) {
    // Past MAX_SEQ (only a poisoned store leads there) the seq starts again from the clock: clients follow a reset.
    const seq = state.lastSeq + 1 > MAX_SEQ ? clock.now() : Math.max(clock.now(), state.lastSeq + 1);
    const bytes = encodeSnapshot(content, seq, new Date(state.digestSeenAt));
    const events = pending && eventsWrite(pending, state, deps.config);
    // Without events to write (none enabled, or nothing moved) the step is ours at once.
    if (pending && !events) commitStep(deps, state, pending, undefined);
    if (!events) pending = undefined;
    const outcome = await publisher
      // knownSeq: a stored state below what we saw stored was rolled back (failover) and is republished.
      .publish(siteId, {
        digest,
        seq,
        bytes,
        leaseOwner: deps.leaseOwner,
        knownSeq: state.lastSeq,
        events,
        cursorVersion: heldVersion(deps, state, events),
      })
      .catch((error: unknown) => {
        throw PublishError.of(error);
      });
    switch (outcome.kind) {
      case 'published':
        if (outcome.corrupt) {
          log.error(
            { siteId, corrupt: outcome.corrupt, seq, docs: 'docs/POLLER.md#poisoned-state' },
            outcome.corrupt === 'seq'
              ? 'stored seq was not a valid seq (written by hand or by someone on the Redis network); overwritten'
              : 'stored snapshot was not the one published (written by hand or by someone on the Redis network); overwritten',
          );
        }
        if (pending) commitStep(deps, state, pending, outcome.events?.cursorVersion);
        state.lastSeq = seq;
        state.lastPublishedAt = clock.now();
        deps.onPublished();
        log.debug(
          { siteId, seq, visits: content.visits_live.length, events: outcome.events?.ids.length, receivers: outcome.receivers },
          'published',
        );
        return 'published';
      case 'unchanged':
        if (pending) commitStep(deps, state, pending, outcome.events?.cursorVersion);
        state.lastSeq = Math.max(state.lastSeq, outcome.seq);
        return 'unchanged';
      case 'seq-behind':
        state.lastSeq = Math.max(state.lastSeq, outcome.storedSeq);
        continue;
      case 'cursor-stale': {
        log.warn(
          {
            siteId,
            heldVersion: state.cursorState?.version,
            storedVersion: outcome.version,
            docs: 'docs/POLLER.md#visit-events-the-incremental-fetch',
          },
          'stored visit cursor is not ours; reading it again, no events this tick',
        );
        const stored = await publisher.readCursor(siteId).catch((error: unknown) => {
          throw PublishError.of(error);
        });
        state.cursorState = stored ? cursorFromStore(stored) : undefined;
        pending = undefined;
        continue;
      }
      case 'not-leader':
        state.leaderUntil = 0;
        forgetLeadState(state);
        log.warn({ siteId }, 'publish refused: another poller holds the lease');
        return 'not-leader';
    }
  }
  throw new PublishError('seq kept falling behind the stored one');
}

/** Without an events write, the stored cursor version to check (a cursor lost with Redis is noticed at once). */
function heldVersion(deps: PublishDeps, state: SiteState, events: EventsWrite | undefined): number | undefined {
  return events || deps.config.eventsRetentionMs <= 0 ? undefined : state.cursorState?.version;
}

/** The events write of a step, or undefined when there is nothing to store (events off, or the cursor stands still). */
export function eventsWrite(step: CursorStep, state: SiteState, config: PublishDeps['config']): EventsWrite | undefined {
  if (config.eventsRetentionMs <= 0) return undefined;
  const held = state.cursorState;
  const { write } = step;
  const still =
    held !== undefined &&
    write.after === held.after &&
    write.offset === held.offset &&
    write.set.length === 0 &&
    write.forget.length === 0 &&
    step.events.length === 0;
  if (still) return undefined;
  return { entries: step.events, cursor: write, retentionMs: config.eventsRetentionMs, maxLen: config.eventsMaxLen };
}

/** The step is stored (or needs no storing): it becomes the cursor, with the store's version when it told one. */
function commitStep(deps: PublishDeps, state: SiteState, step: CursorStep, storedVersion: number | undefined): void {
  const wasCatchingUp = state.catchingUp;
  state.cursorState =
    storedVersion === undefined
      ? { ...step.next, version: state.cursorState?.version ?? step.next.version - 1 }
      : { ...step.next, version: storedVersion };
  state.catchingUp = step.capHit;
  state.eventCounts.visits += step.events.filter((e) => e.kind === 'visit').length;
  if (step.capHit) state.eventCounts.capHits++;
  if (step.jumped) {
    state.eventCounts.gaps++;
    deps.log.warn(
      {
        after: cursorAfterIso(step.next),
        retentionMs: deps.config.eventsRetentionMs,
        docs: 'docs/POLLER.md#visit-events-the-incremental-fetch',
      },
      'visit cursor older than EVENTS_RETENTION: skipped ahead, wrote a gap reset',
    );
  }
  if (step.capHit && !wasCatchingUp) {
    deps.log.info({ cap: deps.config.eventsPerTick }, 'more new visits than EVENTS_PER_TICK: catching up over the next ticks');
  }
}
