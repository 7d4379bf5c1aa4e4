import { parse, print, Kind, type OperationDefinitionNode, buildASTSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import type { Membership } from '@lt/context';
import { allowed, applyRemovals, filterDocument, readAccessRules } from './authorization';
import { checkOperation, checkSource, measureOperation, resolveLimits, textNesting } from './limits';

const SDL = `
  directive @authenticated on FIELD_DEFINITION | OBJECT
  directive @requiresScopes(scopes: [[String!]!]!) on FIELD_DEFINITION | OBJECT
  type Query { public: String, me: User @authenticated, secret: Secret, all: [Secret!]! }
  type User { id: ID!, users: [User!]! @requiresScopes(scopes: [["TENANT_ADMIN"], ["PLATFORM_ADMIN"]]) }
  type Secret @requiresScopes(scopes: [["PLATFORM_ADMIN"]]) { id: ID! }
`;
const rules = readAccessRules(SDL);
const schema = buildASTSchema(parse(SDL));
const m = (role: Membership['role']): Membership => ({
  userId: 'u',
  sub: 's',
  tenantId: 't',
  role,
  tenantStatus: 'ACTIVE',
});

describe('access rules', () => {
  it('reads field and type rules; roles are scopes (OR of ANDs)', () => {
    expect(rules.fields.get('Query.me')).toEqual({ authenticated: true, scopes: null });
    expect(rules.types.get('Secret')?.scopes).toEqual([['PLATFORM_ADMIN']]);
    const users = rules.fields.get('User.users')!;
    expect(allowed(users, m('TENANT_ADMIN'))).toBe(true);
    expect(allowed(users, m('MEMBER'))).toBe(false);
    expect(allowed(users, null)).toBe(false);
  });

  it('removes unauthorized fields, and fields left empty, with their paths', () => {
    const doc = parse(`{ public me { id users { id } } s: secret { id } }`);
    const member = filterDocument(schema, rules, doc, m('MEMBER'));
    expect(print(member.document).replace(/\s+/g, ' ')).toBe('{ public me { id } }');
    expect(member.removed.map((r) => r.path)).toEqual([['me', 'users'], ['s']]);
    const anon = filterDocument(schema, rules, doc, null);
    expect(anon.removed.map((r) => r.path)).toEqual([['me'], ['s']]);
    const admin = filterDocument(schema, rules, parse(`{ me { users { id } } }`), m('TENANT_ADMIN'));
    expect(admin.removed).toEqual([]);
  });

  it('answers removed fields with null, propagated past non-null fields as execution would', () => {
    const doc = parse(`{ public me { id users { id } } }`);
    const member = filterDocument(schema, rules, doc, m('MEMBER'));
    // User.users is non-null ([User!]!), so its null goes up to the nullable `me`.
    expect(member.removed).toEqual([{ path: ['me', 'users'], nullable: [true, false] }]);
    expect(applyRemovals({ public: 'p', me: { id: '1' } }, member.removed)).toEqual({ public: 'p', me: null });
    // A removed nullable root field is null; a removed non-null root field nulls `data`.
    const anon = filterDocument(schema, rules, parse(`{ public secret { id } }`), null);
    expect(applyRemovals({ public: 'p' }, anon.removed)).toEqual({ public: 'p', secret: null });
    const all = filterDocument(schema, rules, parse(`{ public all { id } }`), m('MEMBER'));
    expect(all.removed).toEqual([{ path: ['all'], nullable: [false] }]);
    expect(applyRemovals({ public: 'p' }, all.removed)).toBeNull();
  });
});

describe('operation limits', () => {
  const shape = (q: string) => {
    const doc = parse(q);
    const op = doc.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION) as OperationDefinitionNode;
    const fragments = Object.fromEntries(
      doc.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d]] : [])),
    );
    return measureOperation(op, fragments);
  };
  it('counts depth through fragments, aliases and root fields', () => {
    expect(shape(`{ a { b { c } } d }`)).toMatchObject({ depth: 3, aliases: 0, rootFields: 2, expandedFields: 4 });
    expect(shape(`{ x: a { ...F } y: a { id } } fragment F on A { b { c { d } } }`)).toMatchObject({
      depth: 4,
      aliases: 2,
      rootFields: 2,
      expandedFields: 6,
    });
  });

  it('counts aliases and fields once per use of their fragment, and root keys through fragments', () => {
    // F (1 alias, 2 fields) is used 3 times: twice through G, once directly.
    const s = shape(`{ ...G a { ...F } } fragment G on Query { g1: a { ...F } g2: a { ...F } k }
      fragment F on A { x: b { c } }`);
    expect(s).toMatchObject({ depth: 3, aliases: 2 + 3, rootFields: 4, expandedFields: 4 + 3 * 2 });
    // Inline fragments add no depth; a fragment spread at the root contributes its root fields.
    expect(shape(`{ ... on Query { ... on Query { a { b } } } ...R } fragment R on Query { r1 r2: r1 }`)).toMatchObject(
      {
        depth: 2,
        rootFields: 3,
      },
    );
  });

  /** `query { ...F1 } fragment F1 on Query { ...F2 ...F2 } … fragment Fn on Query { __typename }` */
  const doubling = (n: number) =>
    `query { ...F1 } ` +
    Array.from({ length: n }, (_, i) =>
      i === n - 1
        ? `fragment F${n} on Query { a: __typename }`
        : `fragment F${i + 1} on Query { ...F${i + 2} ...F${i + 2} }`,
    ).join(' ');

  it('is linear in the document: each fragment walked once however often it is spread', () => {
    for (const n of [5, 10, 21, 40]) {
      const s = shape(doubling(n));
      // Expanded, the operation is 2^(n-1) aliased fields: measured exactly (capped at 1e9)...
      expect(s.expandedFields).toBe(Math.min(2 ** (n - 1), 1_000_000_000));
      expect(s.aliases).toBe(s.expandedFields);
      expect(s).toMatchObject({ depth: 1, rootFields: 1 });
      // ...with one walk of the operation and of each fragment, twice (measure + root keys).
      expect(s.visits).toBe(2 * (n + 1));
    }
    const r = checkOperation(
      parse(doubling(21)),
      parse(doubling(21)).definitions[0] as OperationDefinitionNode,
      resolveLimits(),
    );
    expect(r?.extensions).toMatchObject({ code: 'OPERATION_LIMIT_EXCEEDED', limit: 'aliases', actual: 2 ** 20 });
    const plain = doubling(21).replace('a: __typename', '__typename');
    const r2 = checkOperation(parse(plain), parse(plain).definitions[0] as OperationDefinitionNode, resolveLimits());
    expect(r2?.extensions).toMatchObject({
      code: 'OPERATION_LIMIT_EXCEEDED',
      limit: 'expandedFields',
      actual: 2 ** 20,
    });
  });

  it('a fragment cycle (refused by validation anyway) ends', () => {
    expect(shape(`{ ...A } fragment A on Query { x ...B } fragment B on Query { y ...A }`)).toMatchObject({
      rootFields: 2,
      expandedFields: 2,
    });
  });
});

describe('text nesting (checked before parsing)', () => {
  it('counts { [ ( outside strings, block strings and comments', () => {
    expect(textNesting(`{ a(x: { y: [1, [2]] }) { b } }`)).toBe(5);
    expect(
      textNesting(`{ a(s: "{{{{[[[(((", t: """{{{{ \\""" {{{""") # {{{{{{
      { b } }`),
    ).toBe(2);
    expect(textNesting(`{ a(s: "\\"{{{{") }`)).toBe(2);
  });

  it('refuses 1,500 nested inline fragments with OPERATION_LIMIT_EXCEEDED, stopping at the limit', () => {
    const deep = `{ ${'... on Query { '.repeat(1500)}__typename${' }'.repeat(1500)} }`;
    const limits = resolveLimits();
    expect(textNesting(deep, limits.maxNesting)).toBe(limits.maxNesting + 1);
    expect(checkSource(deep, limits)?.extensions).toMatchObject({ code: 'OPERATION_LIMIT_EXCEEDED', limit: 'nesting' });
    expect(checkSource(`{ ${'... on Query { '.repeat(40)}__typename${' }'.repeat(40)} }`, limits)).toBeNull();
  });
});
