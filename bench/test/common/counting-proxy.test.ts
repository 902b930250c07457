import { startMatomoSim, type MatomoSim } from '@matomo-live/matomo-sim';
import { startCountingProxy, type CountingProxy } from '../../src/common/counting-proxy';

describe('counting proxy in front of the real simulator', () => {
  let sim: MatomoSim;
  let proxy: CountingProxy;

  beforeAll(async () => {
    sim = await startMatomoSim({ token: 'proxy-test-token' });
    proxy = await startCountingProxy(sim.url);
  });
  afterAll(async () => {
    await proxy.close();
    await sim.close();
  });

  it('forwards requests unchanged and counts requests, API calls, ticks and body bytes', async () => {
    const bulk = new URLSearchParams({ module: 'API', method: 'API.getBulkRequest', format: 'json', token_auth: 'proxy-test-token' });
    bulk.append('urls[0]', 'method=Live.getLastVisitsDetails&idSite=1&period=day&date=today&filter_limit=5');
    bulk.append('urls[1]', 'method=Live.getCounters&idSite=1&lastMinutes=30');
    const plain = new URLSearchParams({
      module: 'API',
      method: 'VisitsSummary.get',
      idSite: '1',
      period: 'day',
      date: 'today',
      format: 'json',
      token_auth: 'proxy-test-token',
    });
    let responseBytes = 0;
    for (const body of [bulk, plain]) {
      const response = await fetch(new URL('index.php', proxy.url), { method: 'POST', body });
      expect(response.status).toBe(200);
      responseBytes += Buffer.byteLength(await response.text());
    }
    expect(sim.stats().requests).toBe(2);
    expect(proxy.counts()).toEqual({
      requests: 2,
      requestBytes: Buffer.byteLength(bulk.toString()) + Buffer.byteLength(plain.toString()),
      responseBytes,
      liveCalls: 1,
      apiCalls: 3,
    });
  });
});
