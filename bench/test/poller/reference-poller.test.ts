import { startMatomoSim, type MatomoSim } from '@matomo-live/matomo-sim';
import { waitFor } from '@matomo-live/test-support/wait-for';
import { startReferencePoller } from '../../src/poller/reference-poller';

let sim: MatomoSim;
afterEach(() => sim.close());

describe('the reference loop', () => {
  it('reads Matomo 5\'s one-column answers ({"value":N}): real visit counts and time spent, 7 requests per tick', async () => {
    sim = await startMatomoSim({ token: 't', timezone: 'UTC' });
    sim.setSummary({ today: { nb_visits: 7, sum_visit_length: 61 }, yesterday: { nb_visits: 10, sum_visit_length: 3600 } });
    const messages: string[] = [];
    const loop = startReferencePoller({
      matomoUrl: sim.url,
      token: 't',
      siteId: 1,
      intervalMs: 60_000,
      onMessage: (m) => messages.push(m),
    });
    try {
      await waitFor(() => messages.length > 0, 'the first message', 10_000);
    } finally {
      loop.stop();
    }
    const message = JSON.parse(messages[0]!) as { summary: Record<string, { visits: number; time_spent: string }> };
    expect(message.summary.today).toEqual({ visits: 7, time_spent: '00:01:01' });
    expect(message.summary.yesterday).toEqual({ visits: 10, time_spent: '01:00:00' });
    expect(sim.stats().requests).toBe(7);
  });
});
