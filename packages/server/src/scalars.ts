import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';
import { InvalidInput } from './inputGuard';

/** RFC 3339 date-time (seconds may be omitted, as ISO-8601 allows): fields checked one by one below. */
const ISO = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:[Zz]|[+-](\d{2}):(\d{2}))$/;

/** Earliest and latest instants accepted: years 0001–9999 in UTC, a range Postgres and JS both hold exactly. */
const MIN = Date.parse('0001-01-01T00:00:00Z');
const MAX = Date.parse('9999-12-31T23:59:59.999Z');

const MESSAGE = 'DateTime must be an RFC 3339 date-time with a time zone, years 0001–9999, e.g. 2026-01-31T12:00:00Z';

const leap = (y: number): boolean => y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const daysIn = (year: number, month: number): number => (month === 2 && leap(year) ? 29 : DAYS[month - 1]!);

/**
 * The instant `value` names, or why it names none: not a string, not RFC 3339, a field out of
 * range (month 13, 30 February, hour 25, offset +24:00), or outside years 0001–9999 once in UTC.
 */
export function parseDateTime(value: unknown): Date | string {
  if (typeof value !== 'string') return MESSAGE;
  const m = ISO.exec(value);
  if (!m) return MESSAGE;
  const n = (x: string | undefined): number => (x === undefined ? 0 : Number(x));
  const year = n(m[1]);
  const month = n(m[2]);
  const day = n(m[3]);
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return MESSAGE;
  if (n(m[4]) > 23 || n(m[5]) > 59 || n(m[6]) > 59 || n(m[7]) > 23 || n(m[8]) > 59) return MESSAGE;
  const d = new Date(value);
  const t = d.getTime();
  if (!Number.isFinite(t) || t < MIN || t > MAX) return MESSAGE;
  return d;
}

/**
 * ISO-8601 string on the wire, `Date` inside resolvers. Strict, as a literal and as a variable:
 * an invalid value is not thrown here (graphql-js would answer a validation or variable error
 * that cannot name the argument) but parsed to an {@link InvalidInput} that the subgraph server's
 * argument guard turns into BAD_USER_INPUT naming the field (`location.recordedAt`) before any
 * resolver runs.
 */
export const DateTimeScalar = new GraphQLScalarType<Date | InvalidInput, string>({
  name: 'DateTime',
  description: 'ISO-8601 date-time string.',
  serialize(value) {
    if (value instanceof Date) return value.toISOString();
    if (typeof value === 'string') return new Date(value).toISOString();
    throw new GraphQLError('DateTime cannot represent this value');
  },
  parseValue(value) {
    const d = parseDateTime(value);
    return typeof d === 'string' ? new InvalidInput(d) : d;
  },
  parseLiteral(ast) {
    const d = parseDateTime(ast.kind === Kind.STRING ? ast.value : null);
    return typeof d === 'string' ? new InvalidInput(d) : d;
  },
});
