import { spawnSync } from 'node:child_process';
import { cpuSeconds, groupCpuSeconds, rssBytes, RssPeakSampler } from '../../src/common/proc-stats';

describe('proc-stats', () => {
  it('sees CPU time grow while this process computes', () => {
    const before = cpuSeconds(process.pid);
    const until = Date.now() + 200;
    let x = 0;
    while (Date.now() < until) x += Math.sqrt(x + 1);
    expect(x).toBeGreaterThan(0);
    expect(cpuSeconds(process.pid)).toBeGreaterThan(before);
  });

  it("sums a process group's CPU, children waited for included", () => {
    const pgid = Number(spawnSync('ps', ['-o', 'pgid=', '-p', String(process.pid)], { encoding: 'utf8' }).stdout.trim());
    const before = groupCpuSeconds(pgid);
    // A child that burns CPU and is waited for: its time moves to our cutime/cstime.
    spawnSync(process.execPath, ['-e', 'const t = Date.now() + 300; let x = 0; while (Date.now() < t) x += Math.sqrt(x + 1);']);
    expect(groupCpuSeconds(pgid)).toBeGreaterThanOrEqual(before + 0.2);
    expect(groupCpuSeconds(999_999_999)).toBe(0);
  });

  it('reads RSS in bytes and keeps the peak', () => {
    const rss = rssBytes(process.pid);
    expect(rss).toBeGreaterThan(10 * 1024 * 1024);
    const sampler = new RssPeakSampler(process.pid, 10);
    expect(sampler.stop()).toBeGreaterThanOrEqual(Math.min(rss, rssBytes(process.pid)));
  });
});
