/**
 * The subgraphs' shared input checks, without I/O: the strict DateTime scalar, the argument guard
 * (NUL characters and invalid scalar values answer BAD_USER_INPUT naming the input path, before the
 * resolver runs, for literals and variables alike) and the typed `[date, UUID]` cursors.
 */
import { buildSchema, graphql, type GraphQLSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import { DateTimeScalar, decodeTimeIdCursor, encodeCursor, guardArguments, parseDateTime } from '../src/index';

const UUID = '8f9b9d6e-1f0a-4c1e-9d55-3a1c2b4e5f60';

describe('parseDateTime', () => {
  it.each([
    'now',
    '2026-13-01T00:00:00Z',
    '2026-02-30T12:00:00Z',
    '2025-02-29T12:00:00Z',
    '2026-01-01T24:00:00Z',
    '2026-01-01T12:60:00Z',
    '2026-01-01T12:00:60Z',
    '2026-01-01T12:00:00+24:00',
    '+275760-09-13T00:00:00Z',
    '275760-09-13T00:00:00Z',
    '0000-01-01T00:00:00Z',
    '0001-01-01T00:00:00+01:00',
    '10000-01-01T00:00:00Z',
    '2026-01-01',
    '2026-01-01T00:00:00',
    '2026-01-01T00:00:00Z\u0000',
    '',
    20_260_101,
    null,
    { toString: () => '2026-01-01T00:00:00Z' },
  ])('refuses %j', (value) => {
    expect(typeof parseDateTime(value)).toBe('string');
  });

  it.each([
    ['2026-01-31T12:00:00Z', '2026-01-31T12:00:00.000Z'],
    ['2024-02-29T23:59:59.123456789+02:00', '2024-02-29T21:59:59.123Z'],
    ['2026-01-31t12:00z', '2026-01-31T12:00:00.000Z'],
    ['0001-01-01T00:00:00Z', '0001-01-01T00:00:00.000Z'],
    ['9999-12-31T23:59:59.999Z', '9999-12-31T23:59:59.999Z'],
  ])('accepts %s', (value, iso) => {
    expect((parseDateTime(value) as Date).toISOString()).toBe(iso);
  });
});

describe('guardArguments: BAD_USER_INPUT naming the field, resolver not run', () => {
  let calls = 0;
  const schema: GraphQLSchema = buildSchema(`
    scalar DateTime
    input Point { at: DateTime!, key: String }
    type Query { ok: Boolean }
    type Mutation { record(name: String, points: [Point!], at: DateTime): Boolean }
  `);
  Object.assign(schema.getType('DateTime')!, {
    parseValue: DateTimeScalar.parseValue,
    parseLiteral: DateTimeScalar.parseLiteral,
  });
  schema.getMutationType()!.getFields()['record']!.resolve = () => (calls++, true);
  guardArguments(schema);
  const run = async (source: string, variableValues: Record<string, unknown> = {}) => {
    calls = 0;
    const r = await graphql({ schema, source, variableValues });
    return { errors: r.errors?.map((e) => e.extensions), data: r.data, calls };
  };

  it.each([
    ['a literal date', 'mutation { record(at: "now") }', {}, 'at'],
    ['a variable date', 'mutation($a: DateTime) { record(at: $a) }', { a: '0000-01-01T00:00:00Z' }, 'at'],
    ['a number as date', 'mutation($a: DateTime) { record(at: $a) }', { a: 20_260_101 }, 'at'],
    [
      'a date deep in a list',
      'mutation($p: [Point!]) { record(points: $p) }',
      { p: [{ at: '2026-01-01T00:00:00Z' }, { at: '+275760-09-13T00:00:00Z' }] },
      'points[1].at',
    ],
    ['a literal date deep in a list', 'mutation { record(points: [{ at: 5 }]) }', {}, 'points[0].at'],
    ['a NUL in a string', 'mutation($n: String) { record(name: $n) }', { n: 'van\u00007' }, 'name'],
    ['a NUL literal', 'mutation { record(name: "\\u0000") }', {}, 'name'],
    [
      'a NUL deep in a list',
      'mutation($p: [Point!]) { record(points: $p) }',
      { p: [{ at: '2026-01-01T00:00:00Z' }, { at: '2026-01-01T00:00:00Z', key: 'k\u0000' }] },
      'points[1].key',
    ],
  ])('%s', async (_what, source, variables, field) => {
    const r = await run(source, variables);
    expect(r.errors).toEqual([expect.objectContaining({ code: 'BAD_USER_INPUT', field })]);
    expect(r.calls).toBe(0);
  });

  it('lets valid values through, parsed', async () => {
    const r = await run('mutation($p: [Point!]) { record(name: "van-7", points: $p, at: "2026-01-01T00:00:00Z") }', {
      p: [{ at: '2026-01-01T00:00:00+02:00', key: 'k' }],
    });
    expect(r).toMatchObject({ errors: undefined, data: { record: true }, calls: 1 });
  });
});

describe('decodeTimeIdCursor', () => {
  it.each([
    ['["garbage","x"]', 'WyJnYXJiYWdlIiwieCJd'],
    ['numbers', encodeCursor([1, 2])],
    ['year 0000', encodeCursor(['0000-01-01T00:00:00Z', UUID])],
    ['year 275760', encodeCursor(['+275760-09-13T00:00:00Z', UUID])],
    ['a non-UUID id', encodeCursor(['2026-01-01T00:00:00Z', 'abc'])],
    ['a NUL in the id', encodeCursor(['2026-01-01T00:00:00Z', `${UUID}\u0000`])],
    ['swapped parts', encodeCursor([UUID, '2026-01-01T00:00:00Z'])],
    ['three parts', encodeCursor(['2026-01-01T00:00:00Z', UUID, UUID])],
    ['not base64 JSON', '!!!'],
  ])('refuses %s with BAD_USER_INPUT naming the field', (_what, cursor) => {
    expect(() => decodeTimeIdCursor(cursor)).toThrow(
      expect.objectContaining({ extensions: { code: 'BAD_USER_INPUT', field: 'after' } }),
    );
  });

  it('decodes what the connections encode', () => {
    const at = new Date('2026-01-31T12:00:00.123Z');
    expect(decodeTimeIdCursor(encodeCursor([at.toISOString(), UUID]))).toEqual({ at, id: UUID });
  });
});
