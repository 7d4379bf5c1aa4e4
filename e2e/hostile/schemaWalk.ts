/**
 * Walks the client-facing API schema (router/schema.graphql) and the supergraph (which subgraph
 * owns each field) and turns every argument of every Query/Mutation field — and of the
 * connection fields nested under them — into fuzz targets: one leaf input path (`input.deviceId`,
 * `locations[0].recordedAt`, `after`) plus the families of invalid values that fit its type.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import {
  buildSchema,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  Kind,
  parse,
  print,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLSchema,
} from 'graphql';

export const apiSchema = (): GraphQLSchema =>
  buildSchema(readFileSync(new URL('../../router/schema.graphql', import.meta.url), 'utf8'));

export type Role = 'TENANT_ADMIN' | 'MEMBER' | 'PLATFORM_ADMIN';

export interface FieldInfo {
  /** The subgraph that resolves the field (from `@join__field` / a single `@join__type`). */
  owner?: string;
  /** Roles its `@requiresScopes` admits; a tenant admin and a member when it has none. */
  roles: Role[];
}

/** `Type.field` → owner and admitted roles, read from the supergraph. */
export function fieldInfo(): Map<string, FieldInfo> {
  const doc = parse(readFileSync(new URL('../../router/supergraph.graphql', import.meta.url), 'utf8'));
  const info = new Map<string, FieldInfo>();
  const graphArg = (d: { arguments?: readonly { name: { value: string }; value: unknown }[] }) => {
    const v = d.arguments?.find((a) => a.name.value === 'graph')?.value as { kind: string; value: string } | undefined;
    return v?.kind === Kind.ENUM ? v.value.toLowerCase() : undefined;
  };
  for (const def of doc.definitions) {
    if (def.kind !== Kind.OBJECT_TYPE_DEFINITION) continue;
    const typeGraphs = (def.directives ?? []).filter((d) => d.name.value === 'join__type').map(graphArg);
    for (const f of def.fields ?? []) {
      const joined = (f.directives ?? []).filter((d) => d.name.value === 'join__field').map(graphArg);
      const owner = joined.find(Boolean) ?? (typeGraphs.length === 1 ? typeGraphs[0] : undefined);
      const scopes = (f.directives ?? []).find((d) => d.name.value === 'requiresScopes')?.arguments?.[0]?.value;
      const roles = scopes ? [...new Set(print(scopes).match(/[A-Z_]+/g) ?? [])] : [];
      info.set(`${def.name.value}.${f.name.value}`, {
        ...(owner ? { owner } : {}),
        roles: (roles.length ? roles : ['TENANT_ADMIN', 'MEMBER']) as Role[],
      });
    }
  }
  return info;
}

/** A family of invalid values: the class a failure is reported under. */
export interface Family {
  /** E.g. `NUL byte in String`, `malformed DateTime`, `wrong JSON type`. */
  name: string;
  arb: fc.Arbitrary<unknown>;
  /** Known cases run before the generated ones, once per role the field admits. */
  examples?: unknown[];
}

/** One argument leaf to attack: `path` inside argument `arg`, with the families that fit its type. */
export interface Target {
  /** `Mutation.startLocationSession`, or `Tenant.users` for nested connection fields. */
  coordinate: string;
  arg: string;
  /** Steps below the argument: object fields and list indices. */
  path: (string | number)[];
  families: Family[];
}

const UUID = '8f9b9d6e-1f0a-4c1e-9d55-3a1c2b4e5f60';
const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');

/** Values of the wrong JSON type for any scalar (objects and lists included). */
const wrongType = (except: 'string' | 'number' | 'boolean' | 'none'): fc.Arbitrary<unknown> =>
  fc.oneof(
    ...(except === 'boolean' ? [] : [fc.boolean()]),
    ...(except === 'number' ? [] : [fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true })]),
    ...(except === 'string' ? [] : [fc.string({ maxLength: 20 })]),
    fc.dictionary(fc.string({ minLength: 1, maxLength: 5 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
    fc.array(fc.jsonValue({ maxDepth: 2 }), { minLength: 2, maxLength: 3 }),
  );

/** A string carrying a NUL byte (alone, inside or around otherwise valid-looking text). */
const withNul = (around: fc.Arbitrary<string>): fc.Arbitrary<string> =>
  fc
    .tuple(around, fc.integer({ min: 0, max: 64 }), fc.integer({ min: 1, max: 3 }))
    .map(([s, at, n]) => `${s.slice(0, at % (s.length + 1))}${'\u0000'.repeat(n)}${s.slice(at % (s.length + 1))}`);

const huge = fc
  .tuple(fc.integer({ min: 20_000, max: 60_000 }), fc.constantFrom('x', 'é', '𝄞', 'a-'))
  .map(([n, c]) => c.repeat(Math.ceil(n / c.length)));

const MALFORMED_IDS = fc.oneof(
  fc.constantFrom('1', '0', 'null', '-'.repeat(36), UUID.replace(/-/g, ''), `${UUID}x`, UUID.slice(1), "' OR 1=1 --"),
  fc.constantFrom('zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz', `{${UUID}}`, '../../etc/passwd', ' '),
  fc.string({ minLength: 1, maxLength: 40 }).filter((s) => !/^[0-9a-f-]{36}$/i.test(s)),
  fc.integer({ min: 0 }),
);

const MALFORMED_DATES = fc.oneof(
  fc.constantFrom(
    'now',
    '2026-13-01T00:00:00Z',
    '2026-02-30T12:00:00Z',
    '2026-01-01T25:00:00Z',
    '+275760-09-13T00:00:00Z',
    '275760-09-13T00:00:00Z',
    '0000-01-01T00:00:00Z',
    '-000001-01-01T00:00:00Z',
    '2026-01-01',
    '2026-01-01T00:00:00',
    '',
  ),
  fc.integer(),
  fc.string({ maxLength: 30 }),
);

/** Base64url JSON that is not a `[ISO date, UUID]` sort key, and plain garbage. */
const MALFORMED_CURSORS = fc.oneof(
  fc.constantFrom(
    'WyJnYXJiYWdlIiwieCJd', // ["garbage","x"]
    b64([1, 2]),
    b64(['0000-01-01T00:00:00Z', UUID]),
    b64(['+275760-09-13T00:00:00Z', UUID]),
    b64(['2026-01-01T00:00:00Z', 'not-a-uuid']),
    b64(['2026-01-01T00:00:00Z', `${UUID}\u0000`]),
    b64(['2026-01-01T00:00:00\u0000Z', UUID]),
    b64([UUID, '2026-01-01T00:00:00Z']),
    b64([null, null]),
    '!!!not base64!!!',
  ),
  fc.jsonValue({ maxDepth: 2 }).map(b64),
  fc.tuple(fc.jsonValue({ maxDepth: 1 }), fc.jsonValue({ maxDepth: 1 })).map(b64),
  fc.string({ maxLength: 30 }),
);

/** Ranges of Float fields the API documents (finite numbers outside them are invalid). */
const FLOAT_RANGES: Record<string, fc.Arbitrary<number>> = {
  latitude: fc.oneof(
    fc.double({ min: 90.000001, max: 1e300, noNaN: true }),
    fc.double({ max: -90.000001, min: -1e300, noNaN: true }),
  ),
  longitude: fc.oneof(
    fc.double({ min: 180.000001, max: 1e300, noNaN: true }),
    fc.double({ max: -180.000001, min: -1e300, noNaN: true }),
  ),
  accuracy: fc.double({ max: -1e-9, min: -1e300, noNaN: true }),
  speed: fc.double({ max: -1e-9, min: -1e300, noNaN: true }),
  heading: fc.oneof(
    fc.double({ min: 360, max: 1e300, noNaN: true }),
    fc.double({ max: -1e-9, min: -1e300, noNaN: true }),
  ),
};

/** Families for a leaf of named type `typeName`, argument/field name `name`. */
function leafFamilies(schema: GraphQLSchema, typeName: string, name: string, nonNull: boolean): Family[] {
  const families: Family[] = [];
  if (nonNull) families.push({ name: 'null for a non-null input', arb: fc.constant(null) });
  const type = schema.getType(typeName);
  if (isEnumType(type)) {
    const values = type.getValues().map((v) => v.name);
    families.push({
      name: 'unknown enum value',
      arb: fc.oneof(
        fc.constantFrom('NOPE', '', ...values.map((v) => v.toLowerCase())),
        fc.string({ maxLength: 12 }).filter((s) => !values.includes(s)),
      ),
      examples: ['NOPE'],
    });
    families.push({ name: 'wrong JSON type', arb: wrongType('string') });
    families.push({ name: 'NUL byte in String', arb: withNul(fc.constantFrom(...values)) });
    return families;
  }
  switch (typeName) {
    case 'String':
      if (name === 'after')
        families.push({
          name: 'malformed cursor',
          arb: MALFORMED_CURSORS,
          examples: ['WyJnYXJiYWdlIiwieCJd', b64([1, 2])],
        });
      families.push({ name: 'NUL byte in String', arb: withNul(fc.string({ maxLength: 24 })), examples: ['fz\u0000'] });
      families.push({ name: 'huge String', arb: huge });
      families.push({ name: 'wrong JSON type', arb: wrongType('string') });
      break;
    case 'ID':
      families.push({ name: 'non-UUID ID', arb: MALFORMED_IDS, examples: ['-'.repeat(36), 'abc'] });
      families.push({
        name: 'NUL byte in String',
        arb: withNul(fc.constantFrom(UUID, 'abc', '')),
        examples: [`${UUID}\u0000`],
      });
      families.push({ name: 'huge String', arb: huge });
      families.push({ name: 'wrong JSON type', arb: wrongType('number') });
      break;
    case 'DateTime':
      families.push({
        name: 'malformed DateTime',
        arb: MALFORMED_DATES,
        examples: ['0000-01-01T00:00:00Z', 'now', '2026-13-01T00:00:00Z', '+275760-09-13T00:00:00Z', 20_260_101],
      });
      families.push({ name: 'NUL byte in String', arb: withNul(fc.constant('2026-01-01T00:00:00Z')) });
      families.push({ name: 'wrong JSON type', arb: wrongType('string') });
      break;
    case 'Int':
      families.push({
        name: 'out-of-range number',
        arb: fc.oneof(
          fc.integer({ min: -(2 ** 31), max: -1 }),
          fc.integer({ min: 1_001, max: 2 ** 31 - 1 }),
          fc.constantFrom(2 ** 31, -(2 ** 31) - 1, 2 ** 53, 1.5),
        ),
      });
      families.push({ name: 'wrong JSON type', arb: wrongType('number') });
      break;
    case 'Float': {
      const range = FLOAT_RANGES[name];
      if (range) families.push({ name: 'out-of-range number', arb: range });
      families.push({ name: 'wrong JSON type', arb: wrongType('number') });
      break;
    }
    default:
      families.push({ name: 'wrong JSON type', arb: wrongType('none') });
  }
  return families;
}

/** Every leaf below an argument of type `type` (input objects and lists expanded). */
function leaves(
  schema: GraphQLSchema,
  type: GraphQLInputType,
  name: string,
  path: (string | number)[],
  depth = 0,
): { path: (string | number)[]; families: Family[] }[] {
  const nonNull = isNonNullType(type);
  const inner = nonNull ? type.ofType : type;
  if (isListType(inner)) {
    const own: Family = { name: 'nested garbage', arb: fc.constantFrom([[]], [[null]], [{}]) };
    return [
      { path, families: nonNull ? [{ name: 'null for a non-null input', arb: fc.constant(null) }, own] : [own] },
      ...leaves(schema, inner.ofType, name, [...path, 0], depth + 1),
    ];
  }
  const named = getNamedType(inner);
  if (isInputObjectType(named)) {
    const own: Family[] = [
      {
        name: 'nested garbage',
        arb: fc.oneof(
          fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.jsonValue({ maxDepth: 3 }), {
            minKeys: 1,
            maxKeys: 4,
          }),
          fc.string({ maxLength: 10 }),
          fc.array(fc.integer(), { maxLength: 3 }),
        ),
      },
    ];
    if (nonNull) own.unshift({ name: 'null for a non-null input', arb: fc.constant(null) });
    const out = [{ path, families: own }];
    if (depth < 3)
      for (const f of Object.values(named.getFields()))
        out.push(...leaves(schema, f.type, f.name, [...path, f.name], depth + 1));
    return out;
  }
  return [{ path, families: leafFamilies(schema, named.name, name, nonNull) }];
}

function targetsOf(schema: GraphQLSchema, coordinate: string, args: readonly GraphQLArgument[]): Target[] {
  return args.flatMap((a) =>
    leaves(schema, a.type, a.name, []).map((l) => ({ coordinate, arg: a.name, path: l.path, families: l.families })),
  );
}

/**
 * Targets for every argument of every Query and Mutation field, and of every field with
 * arguments on an object type reachable from them (the connections' `first`/`after`/`status`).
 * `skip` leaves out whole fields (`Mutation.logout`: any string is a valid refresh token to try).
 */
export function fuzzTargets(schema: GraphQLSchema, skip: Set<string>): Target[] {
  const out: Target[] = [];
  for (const root of [schema.getQueryType(), schema.getMutationType()]) {
    for (const f of Object.values(root!.getFields())) {
      const coordinate = `${root!.name}.${f.name}`;
      if (!skip.has(coordinate)) out.push(...targetsOf(schema, coordinate, f.args));
    }
  }
  for (const t of Object.values(schema.getTypeMap())) {
    if (!isObjectType(t) || t.name.startsWith('__') || ['Query', 'Mutation', 'Subscription'].includes(t.name)) continue;
    for (const f of Object.values(t.getFields()) as GraphQLField<unknown, unknown>[])
      if (f.args.length > 0) out.push(...targetsOf(schema, `${t.name}.${f.name}`, f.args));
  }
  return out;
}

/** A minimal selection for a field's return type (`__typename` for objects, nothing for scalars). */
export function selectionFor(schema: GraphQLSchema, coordinate: string): string {
  const [typeName, fieldName] = coordinate.split('.') as [string, string];
  const t = schema.getType(typeName);
  if (!isObjectType(t)) throw new Error(`${typeName} is not an object type`);
  const ret = getNamedType(t.getFields()[fieldName]!.type);
  return isScalarType(ret) || isEnumType(ret) ? '' : ' { __typename }';
}

/**
 * A JSON value as a GraphQL literal of `type`: strings escaped as JSON, enum names bare where the
 * type says enum (so valid baselines stay valid), anything else printed as its JSON shape.
 */
export function toLiteral(v: unknown, type: GraphQLInputType | undefined): string {
  if (v === null || v === undefined) return 'null';
  const inner = type && isNonNullType(type) ? type.ofType : type;
  if (Array.isArray(v)) {
    const item = inner && isListType(inner) ? (inner.ofType as GraphQLInputType) : undefined;
    return `[${v.map((x) => toLiteral(x, item)).join(', ')}]`;
  }
  const named = inner && !isListType(inner) ? getNamedType(inner) : undefined;
  if (typeof v === 'string') return isEnumType(named) && /^[_A-Za-z][_0-9A-Za-z]*$/.test(v) ? v : JSON.stringify(v);
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null';
  if (typeof v === 'boolean') return String(v);
  const fields = isInputObjectType(named) ? named.getFields() : {};
  const entries = Object.entries(v as Record<string, unknown>).filter(([k]) => /^[_A-Za-z][_0-9A-Za-z]*$/.test(k));
  return `{${entries.map(([k, x]) => `${k}: ${toLiteral(x, fields[k]?.type)}`).join(', ')}}`;
}

/** The declared type of an argument. */
export function argType(schema: GraphQLSchema, coordinate: string, arg: string): GraphQLInputType {
  const [typeName, fieldName] = coordinate.split('.') as [string, string];
  const t = schema.getType(typeName);
  if (!isObjectType(t)) throw new Error(`${typeName} is not an object type`);
  return t.getFields()[fieldName]!.args.find((a) => a.name === arg)!.type;
}
