import { fixedOffsetMinutes } from '@matomo-live/protocol';

describe('fixedOffsetMinutes', () => {
  it.each([
    ['UTC', 0],
    ['utc', 0],
    ['UTC+3', 180],
    ['UTC-4.5', -270],
    ['UTC+5:30', 330],
    [' UTC+10 ', 600],
  ])('%s is %d minutes east of UTC', (zone, minutes) => {
    expect(fixedOffsetMinutes(zone)).toBe(minutes);
  });

  it.each(['Europe/Paris', 'GMT+2', 'UTC+', 'UTC+123', 'UTC+5:3'])('%s is not a fixed offset', (zone) => {
    expect(fixedOffsetMinutes(zone)).toBeUndefined();
  });
});
