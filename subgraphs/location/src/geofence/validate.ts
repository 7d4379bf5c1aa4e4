import { badUserInput } from '@lt/errors';
import { ringArea2, selfIntersection, unwrapRing, type FenceShape } from './geometry';

export const NAME_MAX = 100;
export const RADIUS_MIN = 1;
export const RADIUS_MAX = 100_000;
export const POLYGON_MIN = 4;
export const POLYGON_MAX = 10_000;
export const TAGS_MAX = 20;
export const TAG_MAX_LENGTH = 64;
/** 30 days. */
export const DWELL_MAX = 2_592_000;

export interface CircleInput {
  latitude: number;
  longitude: number;
  radiusMeters: number;
}
export interface CreateGeofenceInput {
  name: string;
  circle?: CircleInput | null;
  polygon?: number[][] | null;
  dwellSeconds?: number | null;
  tags?: string[] | null;
}
export type UpdateGeofenceInput = Partial<CreateGeofenceInput>;

/** What a valid input writes (absent keys: unchanged, on update). */
export interface GeofenceChange {
  name?: string;
  shape?: FenceShape;
  dwellSeconds?: number | null;
  tags?: string[];
}

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function text(v: string, field: string, max: number): string {
  if (v.includes('\u0000')) throw badUserInput(`${field} must not contain NUL characters`, field);
  if (v.trim().length === 0 || [...v].length > max)
    throw badUserInput(`${field} must be 1 to ${max} characters`, field);
  return v;
}

function circle(c: CircleInput, field: string): FenceShape {
  if (!finite(c.latitude) || c.latitude < -90 || c.latitude > 90)
    throw badUserInput('latitude must be a number between -90 and 90', `${field}.latitude`);
  if (!finite(c.longitude) || c.longitude < -180 || c.longitude > 180)
    throw badUserInput('longitude must be a number between -180 and 180', `${field}.longitude`);
  if (!finite(c.radiusMeters) || c.radiusMeters < RADIUS_MIN || c.radiusMeters > RADIUS_MAX)
    throw badUserInput(`radiusMeters must be between ${RADIUS_MIN} and ${RADIUS_MAX}`, `${field}.radiusMeters`);
  return { type: 'CIRCLE', latitude: c.latitude, longitude: c.longitude, radiusMeters: c.radiusMeters };
}

function polygon(ring: number[][], field: string): FenceShape {
  if (ring.length < POLYGON_MIN || ring.length > POLYGON_MAX)
    throw badUserInput(`polygon must have ${POLYGON_MIN} to ${POLYGON_MAX} positions`, field);
  ring.forEach((p, i) => {
    if (p.length !== 2) throw badUserInput('a position is [longitude, latitude]', `${field}[${i}]`);
    const [lon, lat] = p as [number, number];
    if (!finite(lon) || lon < -180 || lon > 180)
      throw badUserInput('longitude must be a number between -180 and 180', `${field}[${i}][0]`);
    if (!finite(lat) || lat < -90 || lat > 90)
      throw badUserInput('latitude must be a number between -90 and 90', `${field}[${i}][1]`);
  });
  const first = ring[0]!;
  const last = ring[ring.length - 1]!;
  if (first[0] !== last[0] || first[1] !== last[1])
    throw badUserInput('polygon must be a closed ring (last position = first)', field);
  const unwrapped = unwrapRing(ring);
  if (!unwrapped) throw badUserInput('polygons enclosing a pole are not supported (split the area in two)', field);
  for (let i = 1; i < ring.length; i++)
    if (unwrapped.xs[i] === unwrapped.xs[i - 1] && unwrapped.ys[i] === unwrapped.ys[i - 1])
      throw badUserInput('polygon repeats a position', `${field}[${i}]`);
  const crossing = selfIntersection(unwrapped.xs, unwrapped.ys);
  if (crossing >= 0) throw badUserInput('polygon must not intersect itself', `${field}[${crossing}]`);
  if (ringArea2(unwrapped.xs, unwrapped.ys) === 0) throw badUserInput('polygon has no area', field);
  return { type: 'POLYGON', polygon: ring.map((p) => [p[0]!, p[1]!]) };
}

function tags(v: string[], field: string): string[] {
  if (v.length > TAGS_MAX) throw badUserInput(`At most ${TAGS_MAX} tags`, field);
  v.forEach((t, i) => text(t, `${field}[${i}]`, TAG_MAX_LENGTH));
  return [...new Set(v)];
}

function dwell(v: number | null, field: string): number | null {
  if (v === null) return null;
  if (!Number.isInteger(v) || v < 1 || v > DWELL_MAX)
    throw badUserInput(`dwellSeconds must be between 1 and ${DWELL_MAX}`, field);
  return v;
}

/**
 * Checks a create or update input; BAD_USER_INPUT names the first offending field
 * (`input.polygon[3][1]`). `create`: name and exactly one shape are required.
 */
export function validateGeofenceInput(input: UpdateGeofenceInput, create: boolean): GeofenceChange {
  const out: GeofenceChange = {};
  if (input.name !== undefined && input.name !== null) out.name = text(input.name, 'input.name', NAME_MAX);
  else if (create || input.name === null) throw badUserInput('name is required', 'input.name');
  const hasCircle = input.circle !== undefined && input.circle !== null;
  const hasPolygon = input.polygon !== undefined && input.polygon !== null;
  if (hasCircle && hasPolygon) throw badUserInput('Give either circle or polygon, not both', 'input.circle');
  if (create && !hasCircle && !hasPolygon) throw badUserInput('A circle or a polygon is required', 'input.circle');
  if (hasCircle) out.shape = circle(input.circle!, 'input.circle');
  if (hasPolygon) out.shape = polygon(input.polygon!, 'input.polygon');
  if (input.dwellSeconds !== undefined) out.dwellSeconds = dwell(input.dwellSeconds, 'input.dwellSeconds');
  if (input.tags !== undefined && input.tags !== null) out.tags = tags(input.tags, 'input.tags');
  else if (create || input.tags === null) out.tags = [];
  return out;
}
