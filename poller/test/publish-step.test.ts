import { systemClock } from '@matomo-live/protocol';
import { MAX_SEQ, redisNames } from '@matomo-live/shared';
import { capturedLogger } from '@matomo-live/test-support/logger';
import { eventsWrite, publishSite, type PublishDeps } from '../src/publish-step';
import { RedisSnapshotPublisher } from '../src/redis-publisher';
import { readSiteAnswer, type SiteOutcome } from '../src/site-answer';
import { createSiteState, type SiteState } from '../src/site-state';
import { freshCursor } from '../src/visit-cursor';
import { waitFor, watchRedis, type RedisWatch } from './support/harness';

let watch: RedisWatch;
beforeEach(async () => {
  watch = await watchRedis([1]);
});
afterEach(() => watch.close());

const config = {
  eventsPerTick: 100,
  eventsRetentionMs: 0,
  eventsMaxLen: 1000,
  liveLimit: 5,
  publishVisitorIp: false,
  keepVisitsWithoutLocation: true,
};
const day = { nb_visits: 3, nb_actions: 4, nb_uniq_visitors: 2, sum_visit_length: 60, bounce_count: 1 };

/** A site's state and content as a tick reads them from a good answer. */
function siteWithContent(): { state: SiteState; content: SiteOutcome['content'] } {
  const state = createSiteState(5, false);
  const now = Date.now();
  const date = (daysBack: number) => new Date(now - daysBack * 86_400_000).toISOString().slice(0, 10);
  const outcome = readSiteAnswer(
    {
      slots: { siteId: 1, parts: { visits: 0, counters: 1, site: 2, summary: 3 } },
      answers: [
        [],
        [{ visits: 1, actions: 2, visitors: 1, visitsConverted: 0 }],
        { idsite: '1', timezone: 'UTC' },
        { [date(2)]: day, [date(1)]: day, [date(0)]: day },
      ],
      methods: ['v', 'c', 's', 'y'],
      times: { askedAt: now, now, matomoNow: now },
      askedToday: undefined,
      plan: undefined,
    },
    state,
    config,
    capturedLogger().logger,
  );
  if ('failure' in outcome) throw outcome.failure;
  return { state, content: outcome.content };
}

function deps(leaseOwner?: string): PublishDeps & { published: () => number } {
  let published = 0;
  return {
    publisher: new RedisSnapshotPublisher(watch.command, watch.prefix),
    leaseOwner,
    clock: systemClock,
    log: capturedLogger().logger,
    config,
    onPublished: () => published++,
    published: () => published,
  };
}

describe('publishSite', () => {
  it('publishes a change once; the same content again is unchanged (same seq, nothing sent)', async () => {
    const { state, content } = siteWithContent();
    const d = deps();
    await publishSite(d, 1, state, content, Date.now());
    await waitFor(() => watch.messages().length === 1, 'the snapshot');
    const seq = state.lastSeq;
    expect(seq).toBeGreaterThan(0);
    await publishSite(d, 1, state, content, Date.now());
    expect(state.lastSeq).toBe(seq);
    expect(d.published()).toBe(1);
    expect(await watch.command.exists(redisNames(watch.prefix, 1).snapshotKey)).toBe(1);
  });

  it('a seq behind the stored one is raised and published', async () => {
    const { state, content } = siteWithContent();
    const ahead = Date.now() + 3_600_000;
    await watch.command.hset(redisNames(watch.prefix, 1).stateKey, 'digest', 'other', 'seq', String(ahead));
    await publishSite(deps(), 1, state, content, Date.now());
    expect(state.lastSeq).toBe(ahead + 1);
  });

  it('a stored seq at MAX_SEQ is overwritten with one error line, and the seq starts again from the clock', async () => {
    const { state, content } = siteWithContent();
    await watch.command.hset(redisNames(watch.prefix, 1).stateKey, 'digest', 'other', 'seq', String(MAX_SEQ));
    // What a poller that followed a poisoned store would hold: a seq no publish may exceed.
    state.lastSeq = MAX_SEQ;
    const log = capturedLogger();
    const before = Date.now();
    await publishSite({ ...deps(), log: log.logger }, 1, state, content, Date.now());
    expect(state.lastSeq).toBeGreaterThanOrEqual(before);
    expect(state.lastSeq).toBeLessThan(MAX_SEQ);
    expect(await watch.command.hget(redisNames(watch.prefix, 1).stateKey, 'seq')).toBe(String(state.lastSeq));
    expect(log.lines().filter((l) => l.level === 50)).toEqual([expect.objectContaining({ siteId: 1, corrupt: 'seq' })]);
  });

  it('refused without the lease: leadership and the lead state are dropped, nothing published', async () => {
    const { state, content } = siteWithContent();
    state.cursorState = freshCursor(100, 0);
    const d = deps('not-the-owner');
    await publishSite(d, 1, state, content, Date.now());
    expect([state.leaderUntil, state.cursorState, d.published()]).toEqual([0, undefined, 0]);
    expect(await watch.command.exists(redisNames(watch.prefix, 1).snapshotKey)).toBe(0);
  });
});

describe('eventsWrite', () => {
  const step = { write: { expectedVersion: 0, after: 100, offset: 0, set: [], forget: [] }, events: [] } as never;
  it('nothing with events off, or when the cursor stands still', () => {
    const state = createSiteState(5, false);
    state.cursorState = freshCursor(100, 0);
    expect(eventsWrite(step, state, { ...config, eventsRetentionMs: 0 })).toBeUndefined();
    expect(eventsWrite(step, state, { ...config, eventsRetentionMs: 60_000 })).toBeUndefined();
    state.cursorState = freshCursor(90, 0);
    expect(eventsWrite(step, state, { ...config, eventsRetentionMs: 60_000 })).toMatchObject({ retentionMs: 60_000, maxLen: 1000 });
  });
});
