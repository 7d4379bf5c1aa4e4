/**
 * The small vocabulary every validator of this package is written in. A validator takes `unknown`
 * (parsed JSON from the wire or a row) and answers `{ ok: true, value }` or `{ ok: false, error }`;
 * it never throws.
 */
export type Validation<T> = { ok: true; value: T } | { ok: false; error: string };

export const valid = <T>(value: T): Validation<T> => ({ ok: true, value });
export const invalid = <T = never>(error: string): Validation<T> => ({ ok: false, error });

/** A non-empty string of at most 200 characters (ids, names, ISO-8601 times). */
export const str = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 200;
export const num = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
export const optNum = (v: unknown): v is number | null => v === null || num(v);
export const iso = (v: unknown): v is string => str(v) && !Number.isNaN(Date.parse(v));
export const obj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
