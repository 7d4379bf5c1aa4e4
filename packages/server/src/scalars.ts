import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

function parseIso(value: unknown): Date {
  if (typeof value !== 'string' || !ISO.test(value)) {
    throw new GraphQLError('DateTime must be an ISO-8601 string with a time zone, e.g. 2026-01-31T12:00:00Z', {
      extensions: { code: 'BAD_USER_INPUT' },
    });
  }
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) {
    throw new GraphQLError(`Invalid DateTime: ${value.slice(0, 40)}`, { extensions: { code: 'BAD_USER_INPUT' } });
  }
  return d;
}

/** ISO-8601 string on the wire, `Date` inside resolvers. */
export const DateTimeScalar = new GraphQLScalarType<Date, string>({
  name: 'DateTime',
  description: 'ISO-8601 date-time string.',
  serialize(value) {
    if (value instanceof Date) return value.toISOString();
    if (typeof value === 'string') return new Date(value).toISOString();
    throw new GraphQLError('DateTime cannot represent this value');
  },
  parseValue: parseIso,
  parseLiteral(ast) {
    if (ast.kind !== Kind.STRING)
      throw new GraphQLError('DateTime must be a string', { extensions: { code: 'BAD_USER_INPUT' } });
    return parseIso(ast.value);
  },
});
