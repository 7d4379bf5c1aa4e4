import { invalid, iso, num, obj, optNum, str, valid, type Validation } from './validate';

/**
 * A recorded point's public fields (GraphQL `LocationPoint`), declared once: the live event's
 * points, the `location.recorded.v1` payload, the SQL that builds it and the stored row's type are
 * all derived from this map. `column` is the `location_points` column; `kind` says how the field
 * travels: `id` (string), `number`, `number?` (number or null), `time` (a Date in the row,
 * ISO-8601 with milliseconds on the wire).
 */
export const POINT_FIELDS = {
  id: { column: 'id', kind: 'id' },
  latitude: { column: 'latitude', kind: 'number' },
  longitude: { column: 'longitude', kind: 'number' },
  accuracy: { column: 'accuracy', kind: 'number?' },
  altitude: { column: 'altitude', kind: 'number?' },
  speed: { column: 'speed', kind: 'number?' },
  heading: { column: 'heading', kind: 'number?' },
  recordedAt: { column: 'recorded_at', kind: 'time' },
  receivedAt: { column: 'received_at', kind: 'time' },
} as const satisfies Record<string, { column: string; kind: 'id' | 'number' | 'number?' | 'time' }>;

export type PointField = keyof typeof POINT_FIELDS;
type KindOf<F extends PointField> = (typeof POINT_FIELDS)[F]['kind'];
type WireValue<K> = K extends 'number' ? number : K extends 'number?' ? number | null : string;
type RowValue<K> = K extends 'time' ? Date : WireValue<K>;

/** A point on the wire (live events, device snapshots): times as ISO-8601. */
export type PointPayload = { [F in PointField]: WireValue<KindOf<F>> };
/** A point as stored and read (times as Dates): what data functions return. */
export type PointRecord = { [F in PointField]: RowValue<KindOf<F>> };

/** The fields in declaration order (the order they are written in on the wire). */
export const POINT_FIELD_NAMES = Object.keys(POINT_FIELDS) as PointField[];

/** A Prisma `select` of exactly the point's fields. */
export const pointSelect = Object.fromEntries(POINT_FIELD_NAMES.map((f) => [f, true])) as { [F in PointField]: true };

/** `id, latitude, …, recorded_at AS "recordedAt", …`: a SELECT/RETURNING list yielding `PointRecord`s. */
export const pointColumnsSql = POINT_FIELD_NAMES.map((f) => {
  const column = POINT_FIELDS[f].column;
  return column === f ? column : `${column} AS "${f}"`;
}).join(', ');

/** Builder: a stored point -> its wire shape. */
export function pointPayload(p: PointRecord): PointPayload {
  const out: Record<string, unknown> = {};
  for (const f of POINT_FIELD_NAMES) {
    const v = p[f];
    out[f] = v instanceof Date ? v.toISOString() : v;
  }
  return out as PointPayload;
}

/** Validator: unknown -> a point (its own fields only; anything else on the object is dropped). */
export function validatePoint(v: unknown): Validation<PointPayload> {
  if (!obj(v)) return invalid('point: not an object');
  const out: Record<string, unknown> = {};
  for (const f of POINT_FIELD_NAMES) {
    const x = v[f];
    const kind: string = POINT_FIELDS[f].kind;
    const ok = kind === 'id' ? str(x) : kind === 'number' ? num(x) : kind === 'number?' ? optNum(x) : iso(x);
    if (!ok) return invalid(`point.${f}: expected ${kind}`);
    out[f] = x;
  }
  return valid(out as PointPayload);
}

/** ISO-8601 in UTC with milliseconds, as `Date.toISOString` writes it. */
export const SQL_ISO = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;

/**
 * The `'name', value, …` argument list of a `jsonb_build_object` holding a point's fields.
 * `value(field)` is the SQL expression of each field (times as timestamptz: they are written as
 * ISO-8601 like `pointPayload`); `rename` gives a field another key (`id` -> `pointId`).
 */
export function pointJsonArgsSql(
  value: (field: PointField) => string,
  rename: Partial<Record<PointField, string>> = {},
): string {
  return POINT_FIELD_NAMES.map((f) => {
    const expr = value(f);
    const sql = POINT_FIELDS[f].kind === 'time' ? `to_char((${expr}) AT TIME ZONE 'UTC', ${SQL_ISO})` : expr;
    return `'${rename[f] ?? f}', ${sql}`;
  }).join(', ');
}
