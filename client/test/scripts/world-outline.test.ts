import { graticulePath, worldOutlinePath } from '../../scripts/world-outline';
import land from 'world-atlas/land-110m.json';

describe('world outline', () => {
  it('decodes delta-encoded, quantized arcs, including reversed ones', () => {
    const topology = {
      transform: { scale: [1, 1], translate: [0, 0] },
      arcs: [
        [
          [0, 0],
          [10, 0],
          [0, 10],
        ],
        [
          [0, 0],
          [10, 0],
          [0, 10],
        ],
      ],
      objects: { land: { type: 'GeometryCollection', geometries: [{ type: 'Polygon', arcs: [[0, ~1]] }] } },
    };
    // Arc 0: (0,0)→(10,0)→(10,10); arc 1 reversed: (10,10)→(10,0)→(0,0); the shared joint is not repeated.
    expect(worldOutlinePath(topology, { minStep: 0.1 })).toBe('M0 0L10 0L10 -10L10 0L0 0Z');
  });

  it('bakes Natural Earth land into a compact path in the map coordinates', () => {
    const path = worldOutlinePath(land);
    expect(path.length).toBeGreaterThan(10_000);
    expect(path.length).toBeLessThan(80_000);
    const rings = path
      .split('M')
      .filter(Boolean)
      .map((ring) =>
        ring
          .replace('Z', '')
          .split('L')
          .map((pair) => pair.split(' ').map(Number) as [number, number]),
      );
    expect(rings.length).toBeGreaterThan(50);
    const badPoints = rings.flat().filter(([x, y]) => !Number.isFinite(x) || !Number.isFinite(y) || Math.abs(y) > 90);
    expect(badPoints).toEqual([]);
    // No edge jumps across the map: rings crossing the antimeridian are unwrapped and drawn twice.
    const bands = rings.filter((ring) => {
      const aroundThePole = ring.some(([, y]) => y > 80);
      return !aroundThePole && ring.slice(1).some(([x], i) => Math.abs(x - ring[i]![0]) >= 180);
    });
    expect(bands).toEqual([]);
    expect(graticulePath(90)).toBe('M-90 -90V90M0 -90V90M90 -90V90M-180 0H180');
  });
});
