/**
 * Fence geometry without PostGIS: the same code runs against real Postgres and the embedded PGlite.
 * Circles use great-circle (haversine) distance. Polygon edges are straight lines in
 * longitude/latitude (as GeoJSON, RFC 7946 section 3.1.1); a ring crossing the antimeridian is unwrapped
 * (longitudes shifted by 360°) so it stays one shape. Distances to a polygon's border (accuracy
 * hysteresis) use a local equirectangular projection around the point: metres, accurate for the
 * short distances accuracies are.
 */

export const EARTH_RADIUS_M = 6_371_008.8;
const RAD = Math.PI / 180;

export type FenceShape =
  | { type: 'CIRCLE'; latitude: number; longitude: number; radiusMeters: number }
  /** Closed ring of [longitude, latitude], first position = last. */
  | { type: 'POLYGON'; polygon: number[][] };

/** A bounding box [minLon, minLat, maxLon, maxLat]; longitudes may exceed 180 (unwrapped rings). */
export type Box = [number, number, number, number];

/** A fence ready for point tests. */
export interface CompiledFence {
  id: string;
  dwellSeconds: number | null;
  /** One box, or two for a circle crossing the antimeridian. */
  boxes: Box[];
  /** Whether the point lies inside (the border counts as inside). */
  contains(lat: number, lon: number): boolean;
  /** Distance in metres from the point to the fence's border. */
  borderDistance(lat: number, lon: number): number;
}

export function haversine(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const dLat = (lat2 - lat1) * RAD;
  const dLon = (lon2 - lon1) * RAD;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * RAD) * Math.cos(lat2 * RAD) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(a)));
}

/** Bounding boxes of a circle, split in two when it crosses the antimeridian, full width at a pole. */
export function circleBoxes(lat: number, lon: number, radiusMeters: number): Box[] {
  const dLat = radiusMeters / EARTH_RADIUS_M / RAD;
  const minLat = Math.max(-90, lat - dLat);
  const maxLat = Math.min(90, lat + dLat);
  // Margin: boxes are candidate filters, the exact test follows; never let rounding drop a fence.
  const m = 1e-9;
  if (maxLat >= 90 || minLat <= -90) return [[-180, minLat - m, 180, maxLat + m]];
  const s = Math.sin(radiusMeters / EARTH_RADIUS_M) / Math.cos(lat * RAD);
  if (s >= 1) return [[-180, minLat - m, 180, maxLat + m]];
  const dLon = Math.asin(s) / RAD;
  const lo = lon - dLon;
  const hi = lon + dLon;
  if (lo < -180)
    return [
      [lo + 360, minLat - m, 180, maxLat + m],
      [-180, minLat - m, hi, maxLat + m],
    ];
  if (hi > 180)
    return [
      [lo, minLat - m, 180, maxLat + m],
      [-180, minLat - m, hi - 360, maxLat + m],
    ];
  return [[lo - m, minLat - m, hi + m, maxLat + m]];
}

/**
 * The ring as drawn: when an edge jumps more than 180° in longitude the ring crosses the
 * antimeridian, and its western longitudes are shifted by +360° so the ring is continuous.
 * Null when the ring still jumps after that (it encloses a pole: not supported).
 */
export function unwrapRing(ring: number[][]): { xs: Float64Array; ys: Float64Array } | null {
  const n = ring.length;
  const xs = new Float64Array(n);
  const ys = new Float64Array(n);
  let crosses = false;
  for (let i = 1; i < n; i++) if (Math.abs(ring[i]![0]! - ring[i - 1]![0]!) > 180) crosses = true;
  for (let i = 0; i < n; i++) {
    const lon = ring[i]![0]!;
    xs[i] = crosses && lon < 0 ? lon + 360 : lon;
    ys[i] = ring[i]![1]!;
  }
  for (let i = 1; i < n; i++) if (Math.abs(xs[i]! - xs[i - 1]!) > 180) return null;
  return { xs, ys };
}

/** Even-odd ray casting; points on an edge count as inside. */
function inRing(xs: Float64Array, ys: Float64Array, x: number, y: number): boolean {
  let inside = false;
  const n = xs.length;
  for (let i = 0, j = n - 1; i < n; j = i++) {
    const xi = xs[i]!;
    const yi = ys[i]!;
    const xj = xs[j]!;
    const yj = ys[j]!;
    // On the edge (collinear and within its box).
    const cross = (xj - xi) * (y - yi) - (yj - yi) * (x - xi);
    if (
      Math.abs(cross) < 1e-12 &&
      x >= Math.min(xi, xj) &&
      x <= Math.max(xi, xj) &&
      y >= Math.min(yi, yj) &&
      y <= Math.max(yi, yj)
    )
      return true;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** Metres from (lat, lon) to the nearest edge, in a local projection centred on the point. */
function ringDistance(xs: Float64Array, ys: Float64Array, lat: number, lon: number): number {
  const kx = Math.cos(lat * RAD) * RAD * EARTH_RADIUS_M;
  const ky = RAD * EARTH_RADIUS_M;
  let best = Infinity;
  const n = xs.length;
  for (let i = 0; i < n - 1; i++) {
    const ax = (xs[i]! - lon) * kx;
    const ay = (ys[i]! - lat) * ky;
    const bx = (xs[i + 1]! - lon) * kx;
    const by = (ys[i + 1]! - lat) * ky;
    const dx = bx - ax;
    const dy = by - ay;
    const len = dx * dx + dy * dy;
    const t = len === 0 ? 0 : Math.max(0, Math.min(1, -(ax * dx + ay * dy) / len));
    const px = ax + t * dx;
    const py = ay + t * dy;
    const d = px * px + py * py;
    if (d < best) best = d;
  }
  return Math.sqrt(best);
}

export function compileFence(id: string, shape: FenceShape, dwellSeconds: number | null): CompiledFence {
  if (shape.type === 'CIRCLE') {
    const { latitude: clat, longitude: clon, radiusMeters: r } = shape;
    return {
      id,
      dwellSeconds,
      boxes: circleBoxes(clat, clon, r),
      contains: (lat, lon) => haversine(clat, clon, lat, lon) <= r,
      borderDistance: (lat, lon) => Math.abs(haversine(clat, clon, lat, lon) - r),
    };
  }
  const ring = unwrapRing(shape.polygon);
  if (!ring) throw new Error(`geofence ${id}: polygon encloses a pole`);
  const { xs, ys } = ring;
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (let i = 0; i < xs.length; i++) {
    minX = Math.min(minX, xs[i]!);
    maxX = Math.max(maxX, xs[i]!);
    minY = Math.min(minY, ys[i]!);
    maxY = Math.max(maxY, ys[i]!);
  }
  // An unwrapped ring lies (partly) beyond 180°: a point's longitude is tried as is and + 360°.
  const wraps = maxX > 180;
  const x = (lon: number): number => (wraps && lon < minX ? lon + 360 : lon);
  const boxes: Box[] = wraps
    ? [
        [minX, minY, 180, maxY],
        [-180, minY, maxX - 360, maxY],
      ]
    : [[minX, minY, maxX, maxY]];
  return {
    id,
    dwellSeconds,
    boxes,
    contains: (lat, lon) => inRing(xs, ys, x(lon), lat),
    borderDistance: (lat, lon) => ringDistance(xs, ys, lat, x(lon)),
  };
}

/** Orientation of (a, b, c): > 0 counter-clockwise, < 0 clockwise, 0 collinear. */
function orient(ax: number, ay: number, bx: number, by: number, cx: number, cy: number): number {
  return (bx - ax) * (cy - ay) - (by - ay) * (cx - ax);
}

function onSegment(ax: number, ay: number, bx: number, by: number, cx: number, cy: number): boolean {
  return Math.min(ax, bx) <= cx && cx <= Math.max(ax, bx) && Math.min(ay, by) <= cy && cy <= Math.max(ay, by);
}

function segmentsIntersect(
  ax: number,
  ay: number,
  bx: number,
  by: number,
  cx: number,
  cy: number,
  dx: number,
  dy: number,
): boolean {
  const o1 = orient(ax, ay, bx, by, cx, cy);
  const o2 = orient(ax, ay, bx, by, dx, dy);
  const o3 = orient(cx, cy, dx, dy, ax, ay);
  const o4 = orient(cx, cy, dx, dy, bx, by);
  if (((o1 > 0 && o2 < 0) || (o1 < 0 && o2 > 0)) && ((o3 > 0 && o4 < 0) || (o3 < 0 && o4 > 0))) return true;
  if (o1 === 0 && onSegment(ax, ay, bx, by, cx, cy)) return true;
  if (o2 === 0 && onSegment(ax, ay, bx, by, dx, dy)) return true;
  if (o3 === 0 && onSegment(cx, cy, dx, dy, ax, ay)) return true;
  if (o4 === 0 && onSegment(cx, cy, dx, dy, bx, by)) return true;
  return false;
}

/**
 * Index of the first edge that crosses or touches a non-adjacent edge (a closed ring of n
 * positions has n − 1 edges), or −1. Sweep over edges sorted by their west end: each edge is
 * compared only with edges whose longitude ranges overlap it.
 */
export function selfIntersection(xs: Float64Array, ys: Float64Array): number {
  const m = xs.length - 1;
  const order = Array.from({ length: m }, (_, i) => i).sort(
    (a, b) => Math.min(xs[a]!, xs[a + 1]!) - Math.min(xs[b]!, xs[b + 1]!),
  );
  const active: number[] = [];
  for (const i of order) {
    const lo = Math.min(xs[i]!, xs[i + 1]!);
    // Drop edges that end west of this one's start.
    for (let k = active.length - 1; k >= 0; k--)
      if (Math.max(xs[active[k]!]!, xs[active[k]! + 1]!) < lo) active.splice(k, 1);
    for (const j of active) {
      const adjacent = Math.abs(i - j) === 1 || (m > 2 && Math.abs(i - j) === m - 1);
      if (adjacent) {
        // Adjacent edges share one vertex; they may only meet there, not fold back over each other.
        const [prev, v, next] =
          Math.abs(i - j) === 1 ? [Math.min(i, j), Math.max(i, j), Math.max(i, j) + 1] : [m - 1, 0, 1];
        const dot = (xs[prev]! - xs[v]!) * (xs[next]! - xs[v]!) + (ys[prev]! - ys[v]!) * (ys[next]! - ys[v]!);
        if (orient(xs[prev]!, ys[prev]!, xs[v]!, ys[v]!, xs[next]!, ys[next]!) === 0 && dot > 0) return Math.min(i, j);
        continue;
      }
      if (segmentsIntersect(xs[i]!, ys[i]!, xs[i + 1]!, ys[i + 1]!, xs[j]!, ys[j]!, xs[j + 1]!, ys[j + 1]!))
        return Math.min(i, j);
    }
    active.push(i);
  }
  return -1;
}

/** Twice the signed area of the ring, in degrees² (0: degenerate). */
export function ringArea2(xs: Float64Array, ys: Float64Array): number {
  let s = 0;
  for (let i = 0; i < xs.length - 1; i++) s += xs[i]! * ys[i + 1]! - xs[i + 1]! * ys[i]!;
  return s;
}
