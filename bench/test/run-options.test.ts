import { numberList, readRunOptions, USAGE } from '../src/run-options';

describe('readRunOptions', () => {
  it('reads values in both spellings and flags', () => {
    const args = readRunOptions(['--only=fanout,poller', '--sizes', '200', '--quick', '--storm-site=/tmp/site.conf']);
    expect(args.option('only')).toBe('fanout,poller');
    expect(args.option('sizes')).toBe('200');
    expect(args.option('storm-site')).toBe('/tmp/site.conf');
    expect(args.option('rates')).toBeUndefined();
    expect(args.flag('quick')).toBe(true);
    expect(args.flag('no-write')).toBe(false);
  });

  it('rejects an unknown option, naming it', () => {
    expect(() => readRunOptions(['--sise=200'])).toThrow(/--sise/);
  });

  it('rejects a value option without a value and a positional argument', () => {
    expect(() => readRunOptions(['--only'])).toThrow(/--only/);
    expect(() => readRunOptions(['fanout'])).toThrow(/fanout/);
  });
});

describe('USAGE', () => {
  it('lists every option the runner reads, and the parts', () => {
    for (const name of ['only', 'servers', 'sizes', 'rates', 'duration', 'matomo-window', 'matomo-rounds', 'matomo-busy-rounds']) {
      expect(USAGE).toContain(`--${name}=`);
    }
    for (const name of ['event-sizes', 'event-rates', 'storm-clients', 'storm-servers', 'storm-site'])
      expect(USAGE).toContain(`--${name}=`);
    for (const name of ['quick', 'write-docs', 'no-write', 'render', 'help']) expect(USAGE).toContain(`--${name} `);
    expect(USAGE).toContain('fanout,poller,matomo-cost,e2e,ha,events,storm');
  });
});

describe('numberList', () => {
  it('keeps the positive numbers of a comma-separated list', () => {
    expect(numberList('1000,x,0,-5,5000', [1])).toEqual([1000, 5000]);
  });

  it('falls back when the option was not given', () => {
    expect(numberList(undefined, [1, 10])).toEqual([1, 10]);
  });
});
