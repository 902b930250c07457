import { project } from '../../src/ui/projection';

describe('equirectangular projection', () => {
  it('maps longitude to x and latitude to -y', () => {
    expect(project(48.8566, 2.3522)).toEqual({ x: 2.35, y: -48.86 });
    expect(project(-33.87, 151.21)).toEqual({ x: 151.21, y: 33.87 });
    expect(project('40.7', '-74')).toEqual({ x: -74, y: -40.7 });
  });

  it('returns null for missing or impossible coordinates', () => {
    expect(project(null, 2)).toBeNull();
    expect(project(91, 0)).toBeNull();
    expect(project(0, -181)).toBeNull();
    expect(project('x', 0)).toBeNull();
  });
});
