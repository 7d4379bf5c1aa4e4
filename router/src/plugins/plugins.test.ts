import { parse, print, Kind, type OperationDefinitionNode, buildASTSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import type { Membership } from '@lt/context';
import { allowed, applyRemovals, filterDocument, readAccessRules } from './authorization';
import { measureOperation } from './limits';

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
    expect(shape(`{ a { b { c } } d }`)).toEqual({ depth: 3, aliases: 0, rootFields: 2 });
    expect(shape(`{ x: a { ...F } y: a { id } } fragment F on A { b { c { d } } }`)).toEqual({
      depth: 4,
      aliases: 2,
      rootFields: 2,
    });
  });
});
