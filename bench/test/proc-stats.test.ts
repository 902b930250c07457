import { cpuSeconds, rssBytes, RssPeakSampler } from '../src/proc-stats';

describe('proc-stats', () => {
  it('sees CPU time grow while this process computes', () => {
    const before = cpuSeconds(process.pid);
    const until = Date.now() + 200;
    let x = 0;
    while (Date.now() < until) x += Math.sqrt(x + 1);
    expect(x).toBeGreaterThan(0);
    expect(cpuSeconds(process.pid)).toBeGreaterThan(before);
  });

  it('reads RSS in bytes and keeps the peak', () => {
    const rss = rssBytes(process.pid);
    expect(rss).toBeGreaterThan(10 * 1024 * 1024);
    const sampler = new RssPeakSampler(process.pid, 10);
    expect(sampler.stop()).toBeGreaterThanOrEqual(Math.min(rss, rssBytes(process.pid)));
  });
});
