/**
 * Equirectangular projection into the map's SVG viewBox "-180 -90 360 180":
 * x is the longitude, y the negated latitude (SVG's y grows downwards). The
 * world outline is baked at build time in the same coordinates.
 */
export interface MapPoint {
  x: number;
  y: number;
}

/** null when the coordinates are missing or out of range (Matomo sends null without GeoIP). */
export function project(latitude: unknown, longitude: unknown): MapPoint | null {
  const lat = typeof latitude === 'string' ? Number(latitude) : latitude;
  const lon = typeof longitude === 'string' ? Number(longitude) : longitude;
  if (typeof lat !== 'number' || typeof lon !== 'number' || !Number.isFinite(lat) || !Number.isFinite(lon)) return null;
  if (lat < -90 || lat > 90 || lon < -180 || lon > 180) return null;
  return { x: round(lon), y: round(-lat) };
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
