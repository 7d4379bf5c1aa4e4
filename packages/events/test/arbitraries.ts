/** fast-check generators of the domain objects the builders take. */
import fc from 'fast-check';
import type { PointRecord } from '../src/point';

/** Dates with millisecond precision in years 1970..2100 (what the API accepts and stores). */
export const date = fc.date({ min: new Date(0), max: new Date(Date.UTC(2100, 0, 1)), noInvalidDate: true });
export const num = fc.double({ noNaN: true, noDefaultInfinity: true });
export const optNum = fc.option(num, { nil: null });
export const id = fc.uuid();

export const point: fc.Arbitrary<PointRecord> = fc.record({
  id,
  latitude: fc.double({ min: -90, max: 90, noNaN: true }),
  longitude: fc.double({ min: -180, max: 180, noNaN: true }),
  accuracy: optNum,
  altitude: optNum,
  speed: optNum,
  heading: optNum,
  recordedAt: date,
  receivedAt: date,
});

/** Anything JSON can carry, plus a few values it cannot (never thrown on, always refused or read). */
export const junk: fc.Arbitrary<unknown> = fc.oneof(
  fc.anything(),
  fc.jsonValue(),
  fc.constantFrom(undefined, null, NaN, Infinity, () => 1, Symbol('x'), new Date(Number.NaN)),
);

/** The wire form of a value (what a consumer parses): JSON round trip. */
export const wire = <T>(v: T): unknown => JSON.parse(JSON.stringify(v)) as unknown;
