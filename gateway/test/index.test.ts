import * as gateway from '../src/index';

describe('@matomo-live/gateway', () => {
  it('exports the same runtime names whatever the folders behind them', () => {
    expect(Object.keys(gateway).sort()).toEqual(
      [
        'CLOSE_CODE_RULES',
        'CloseCode',
        'EventHub',
        'EventMetrics',
        'GatewayMetrics',
        'RedisEventSource',
        'RedisFleetRegistry',
        'RedisSnapshotFeed',
        'SnapshotHub',
        'checkFastPath',
        'createEventClients',
        'createGateway',
        'createRedisClients',
        'fleetKey',
        'systemClock',
      ].sort(),
    );
    for (const value of Object.values(gateway)) expect(value).toBeDefined();
  });
});
