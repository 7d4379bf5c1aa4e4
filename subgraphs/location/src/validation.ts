import { badUserInput } from '@lt/errors';

/** A point as the client sends it (`LocationInput`, `recordedAt` already parsed by the scalar). */
export interface LocationInput {
  latitude: number;
  longitude: number;
  accuracy?: number | null;
  altitude?: number | null;
  speed?: number | null;
  heading?: number | null;
  recordedAt: Date;
  idempotencyKey?: string | null;
}

/** At most this many points per `recordLocations` call (all or nothing). */
export const MAX_BATCH = 1_000;
/** `recordedAt` may be at most this far ahead of the server clock (device clocks drift). */
export const MAX_FUTURE_MS = 5 * 60_000;
export const MAX_KEY_LENGTH = 128;
export const MAX_DEVICE_ID_LENGTH = 128;

const finite = (v: number): boolean => typeof v === 'number' && Number.isFinite(v);

/** The optional numeric fields and their rules (one table, not one per point). */
const OPTIONAL: readonly (readonly [keyof LocationInput, (v: number) => boolean, string])[] = [
  ['accuracy', (v) => v >= 0, 'accuracy must be a finite number ≥ 0'],
  ['altitude', () => true, 'altitude must be a finite number'],
  ['speed', (v) => v >= 0, 'speed must be a finite number ≥ 0'],
  ['heading', (v) => v >= 0 && v < 360, 'heading must be a number in [0, 360)'],
];

/**
 * Checks one point against the rules that need no database (ranges, finiteness, clock). `field`
 * is the input path used in errors (`location` or `locations[3]`). Throws BAD_USER_INPUT naming
 * the first offending field.
 */
export function validateLocation(input: LocationInput, field: string, now: Date): void {
  const bad = (name: string, message: string): never => {
    throw badUserInput(message, `${field}.${name}`);
  };
  if (!finite(input.latitude) || input.latitude < -90 || input.latitude > 90)
    bad('latitude', 'latitude must be a number between -90 and 90');
  if (!finite(input.longitude) || input.longitude < -180 || input.longitude > 180)
    bad('longitude', 'longitude must be a number between -180 and 180');
  for (const [name, ok, message] of OPTIONAL) {
    const v = input[name] as number | null | undefined;
    if (v === null || v === undefined) continue;
    if (!finite(v) || !ok(v)) bad(name, message);
  }
  const t = input.recordedAt.getTime();
  if (!Number.isFinite(t)) bad('recordedAt', 'recordedAt is not a valid date');
  if (t > now.getTime() + MAX_FUTURE_MS) bad('recordedAt', 'recordedAt is more than 5 minutes in the future');
  const key = input.idempotencyKey;
  if (key !== null && key !== undefined && (key.length === 0 || key.length > MAX_KEY_LENGTH))
    bad('idempotencyKey', `idempotencyKey must be 1 to ${MAX_KEY_LENGTH} characters`);
}

/** Checks a whole batch before anything is written; the error names `locations[i].<field>`. */
export function validateBatch(inputs: LocationInput[], now: Date): void {
  if (inputs.length === 0) throw badUserInput('locations must contain at least one point', 'locations');
  if (inputs.length > MAX_BATCH) throw badUserInput(`At most ${MAX_BATCH} locations per call`, 'locations');
  for (let i = 0; i < inputs.length; i++) validateLocation(inputs[i]!, `locations[${i}]`, now);
}

/** The session-dependent rule, checked inside the transaction once the session is loaded. */
export function checkNotBeforeStart(inputs: LocationInput[], startedAt: Date, fieldOf: (i: number) => string): void {
  inputs.forEach((p, i) => {
    if (p.recordedAt.getTime() < startedAt.getTime())
      throw badUserInput('recordedAt is before the session started', `${fieldOf(i)}.recordedAt`);
  });
}
