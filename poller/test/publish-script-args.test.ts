import { redisNames } from '@matomo-live/shared';
import { PUBLISH_ARGV, PUBLISH_KEYS, publishScriptArgs, type PublishScriptInput } from '../src/publish-script-args';

const names = redisNames('t:', 7);
const base: PublishScriptInput = {
  names,
  siteId: 7,
  digest: 'd1',
  seq: 1_795_950_110_123,
  bytes: Buffer.from('{"snapshot":1}'),
  leaseOwner: undefined,
  publishCommand: 'SPUBLISH',
  knownSeq: 41,
  events: undefined,
};
/** ARGV[i] by name, as the Lua reads it (1-based position in PUBLISH_ARGV). */
const arg = (argv: Array<string | Buffer>, name: (typeof PUBLISH_ARGV)[number]) => argv[PUBLISH_ARGV.indexOf(name)];

describe('publishScriptArgs', () => {
  it('without events, asks the script to check the held cursor version when one is given', () => {
    expect(arg(publishScriptArgs({ ...base, cursorVersion: 7 }).argv, 'heldCursorVersion')).toBe('7');
    expect(arg(publishScriptArgs(base).argv, 'heldCursorVersion')).toBe('');
  });

  it('puts the keys in the order the script reads them', () => {
    const { keys } = publishScriptArgs(base);
    expect(keys).toEqual([names.snapshotKey, names.stateKey, names.leaseKey, names.eventsKey, names.cursorKey]);
    expect(keys).toHaveLength(PUBLISH_KEYS.length);
  });

  it('without events: the fixed head only, seqs as plain digits, no fencing and no events part as ""', () => {
    const { argv } = publishScriptArgs(base);
    expect(argv).toEqual([
      'd1',
      '1795950110123',
      base.bytes,
      '',
      names.snapshotChannel,
      'SPUBLISH',
      '41',
      names.eventsChannel,
      '',
      '0',
      '0',
      '0',
      '0',
      '7',
      '0',
      '0',
      '0',
      '999999999999999',
      '0',
      '',
    ]);
    expect(argv).toHaveLength(PUBLISH_ARGV.length);
  });

  it('with events: the counts in the head, then entries, remembered and forgotten visits in order', () => {
    const { argv } = publishScriptArgs({
      ...base,
      leaseOwner: 'owner-a',
      events: {
        entries: [
          { kind: 'visit', data: '{"a":1}' },
          { kind: 'reset', data: '{}' },
        ],
        cursor: { expectedVersion: 3, after: 1000, offset: 2, set: [[11, 'x']], forget: [9, 10] },
        retentionMs: 3_600_000,
        maxLen: 500,
      },
    });
    expect(arg(argv, 'leaseOwner')).toBe('owner-a');
    expect(argv.slice(PUBLISH_ARGV.indexOf('expectedCursorVersion'))).toEqual([
      '3',
      '1000',
      '2',
      '3600000',
      '500',
      '7',
      '2',
      '1',
      '2',
      '999999999999999',
      '0',
      '',
      'visit',
      '{"a":1}',
      'reset',
      '{}',
      '11',
      'x',
      '9',
      '10',
    ]);
  });
});
