// @ts-check
'use strict';
/**
 * Turns Natural Earth land (world-atlas's TopoJSON) into one SVG path in the
 * dashboard map's coordinates: x = longitude, y = -latitude. Points closer
 * than `minStep` degrees to the previous kept point are dropped, which keeps
 * the 1:110m outline recognisable at a fraction of its size.
 */

/**
 * @param {{ transform: { scale: [number, number], translate: [number, number] }, arcs: number[][][] }} topology
 * @returns {Array<Array<[number, number]>>} each arc as absolute [lon, lat] points
 */
function decodeArcs(topology) {
  const [sx, sy] = topology.transform.scale;
  const [tx, ty] = topology.transform.translate;
  return topology.arcs.map((arc) => {
    let x = 0;
    let y = 0;
    return arc.map(([dx = 0, dy = 0]) => {
      x += dx;
      y += dy;
      return /** @type {[number, number]} */ ([x * sx + tx, y * sy + ty]);
    });
  });
}

/**
 * @param {Array<Array<[number, number]>>} arcs
 * @param {number[]} ring arc indexes; ~i walks arc i backwards
 */
function ringPoints(arcs, ring) {
  /** @type {Array<[number, number]>} */
  const points = [];
  for (const index of ring) {
    const arc = index >= 0 ? arcs[index] : [...(arcs[~index] ?? [])].reverse();
    if (!arc) throw new Error(`world outline: missing arc ${index}`);
    // Consecutive arcs share their joining point.
    points.push(...(points.length > 0 ? arc.slice(1) : arc));
  }
  return points;
}

/**
 * @param {any} topology world-atlas land-*.json
 * @param {{ minStep?: number, objectName?: string }} [options] minStep default 0.4 degrees; objectName default 'land'
 * @returns {string} the SVG path data
 */
function worldOutlinePath(topology, options = {}) {
  const minStep = options.minStep ?? 0.4;
  const object = topology.objects[options.objectName ?? 'land'];
  if (!object) throw new Error('world outline: the topology has no land object');
  const arcs = decodeArcs(topology);
  const geometries = object.type === 'GeometryCollection' ? object.geometries : [object];
  /** @type {number[][][]} */
  const polygons = [];
  for (const geometry of geometries) {
    if (geometry.type === 'Polygon') polygons.push(geometry.arcs);
    else if (geometry.type === 'MultiPolygon') polygons.push(...geometry.arcs);
  }
  const fmt = (/** @type {number} */ v) => String(Math.round(v * 10) / 10);
  let path = '';
  for (const polygon of polygons) {
    for (const ring of polygon) {
      const points = ringPoints(arcs, ring);
      /** @type {Array<[number, number]>} */
      const kept = [];
      for (const point of points) {
        const last = kept[kept.length - 1];
        if (!last || Math.abs(point[0] - last[0]) >= minStep || Math.abs(point[1] - last[1]) >= minStep) kept.push(point);
      }
      if (kept.length < 3) continue; // islands smaller than the step vanish
      for (const copy of antimeridianCopies(kept)) {
        path += 'M' + copy.map(([lon, lat]) => `${fmt(lon)} ${fmt(-lat)}`).join('L') + 'Z';
      }
    }
  }
  return path;
}

/**
 * A ring that crosses the antimeridian (Chukotka, Fiji) jumps by ~360° in
 * longitude, which a flat map would draw as a band across the whole world.
 * Unwrapped to continuous longitudes it pokes out of [-180, 180]; drawn once
 * as is and once shifted by 360°, the map's viewBox clips both halves into
 * place. Rings around a pole (Antarctica) wind once around the globe and stay
 * as they are.
 * @param {Array<[number, number]>} ring
 * @returns {Array<Array<[number, number]>>}
 */
function antimeridianCopies(ring) {
  /** @type {Array<[number, number]>} */
  const unwrapped = [];
  let shift = 0;
  for (const [lon, lat] of ring) {
    const previous = unwrapped[unwrapped.length - 1];
    if (previous) {
      const delta = lon + shift - previous[0];
      if (delta > 180) shift -= 360;
      else if (delta < -180) shift += 360;
    }
    unwrapped.push([lon + shift, lat]);
  }
  if (shift !== 0) return [ring]; // winds around a pole
  const lons = unwrapped.map(([lon]) => lon);
  if (Math.max(...lons) > 180) return [unwrapped, unwrapped.map(([lon, lat]) => [lon - 360, lat])];
  if (Math.min(...lons) < -180) return [unwrapped, unwrapped.map(([lon, lat]) => [lon + 360, lat])];
  return [ring];
}

/** Meridians and parallels every `step` degrees. */
function graticulePath(step = 30) {
  let path = '';
  for (let lon = -180 + step; lon < 180; lon += step) path += `M${lon} -90V90`;
  for (let lat = -90 + step; lat < 90; lat += step) path += `M-180 ${-lat}H180`;
  return path;
}

module.exports = { worldOutlinePath, graticulePath };
