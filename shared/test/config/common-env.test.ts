import { configErrorLines } from '@matomo-live/test-support/config';
import { cleanOrThrow } from '../../src/config/clean';
import { commonEnvSpec, configuredSiteIds, FILE_VARIABLES } from '../../src/config/common-env';
import { gatewayEnvSpec } from '../../src/config/gateway-config';
import { pollerEnvSpec } from '../../src/config/poller-config';

describe('commonEnvSpec', () => {
  it('is read by both services, with the same spec object', () => {
    for (const [name, spec] of Object.entries(commonEnvSpec)) {
      expect((pollerEnvSpec as Record<string, unknown>)[name]).toBe(spec);
      expect((gatewayEnvSpec as Record<string, unknown>)[name]).toBe(spec);
    }
  });

  it('defaults to info logs in JSON and no demo', () => {
    const env = cleanOrThrow(
      {},
      { LOG_LEVEL: commonEnvSpec.LOG_LEVEL, LOG_PRETTY: commonEnvSpec.LOG_PRETTY, MATOMO_LIVE_DEMO: commonEnvSpec.MATOMO_LIVE_DEMO },
    );
    expect(env).toMatchObject({ LOG_LEVEL: 'info', LOG_PRETTY: false, MATOMO_LIVE_DEMO: false });
  });

  it('names LOG_LEVEL when it is not a level', () => {
    expect(configErrorLines(() => cleanOrThrow({ LOG_LEVEL: 'verbose' }, { LOG_LEVEL: commonEnvSpec.LOG_LEVEL }))).toEqual([
      expect.stringMatching(/^LOG_LEVEL: .*verbose/),
    ]);
  });
});

describe('FILE_VARIABLES', () => {
  it('are settings of one service or the other (a *_FILE form of nothing would be read for nothing)', () => {
    for (const name of FILE_VARIABLES) expect(name in pollerEnvSpec || name in gatewayEnvSpec).toBe(true);
  });
});

describe('configuredSiteIds', () => {
  it('is MATOMO_SITE_IDS when set, in order, else MATOMO_SITE_ID alone', () => {
    expect(configuredSiteIds({ MATOMO_SITE_IDS: [3, 1, 2], MATOMO_SITE_ID: 1 })).toEqual([3, 1, 2]);
    expect(configuredSiteIds({ MATOMO_SITE_IDS: undefined, MATOMO_SITE_ID: 5 })).toEqual([5]);
  });
});
