/**
 * Tenant isolation in the auth subgraph, called directly with router-signed contexts: another
 * tenant's users are reachable neither through `Tenant.users` nor through `User` entity references.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Membership, Role } from '@lt/context';
import { createDb, withTenant, type Db } from '@lt/db';
import { createLogger } from '@lt/logger';
import { Cleanup, createTestTenant, subgraphClient, testEnv, uniqueName } from '@lt/testing';
import { createAuthSubgraph } from '../src/createAuthSubgraph';
import { insertUser } from '../src/data/users';

const cleanup = new Cleanup();
let db: Db;
let call: ReturnType<typeof subgraphClient>;
let a: string;
let b: string;
type U = Membership & { email: string };
let adminA: U;
let memberA: U;
let adminB: U;
let memberB: U;

async function user(tenantId: string, role: Exclude<Role, 'PLATFORM_ADMIN'>): Promise<U> {
  const email = `${uniqueName('iso').toLowerCase()}@example.test`;
  const row = await withTenant(db, tenantId, (tx) =>
    insertUser(tx, { cognitoSub: randomUUID(), email, tenantId, role }),
  );
  return { userId: row.id, sub: row.cognitoSub, tenantId, role, tenantStatus: 'ACTIVE', email };
}
const platform: Membership = {
  userId: randomUUID(),
  sub: randomUUID(),
  tenantId: null,
  role: 'PLATFORM_ADMIN',
  tenantStatus: null,
};

beforeAll(async () => {
  const env = testEnv();
  db = createDb({ url: env.databaseUrl, max: 3 });
  cleanup.add(() => db.$disconnect());
  const server = createAuthSubgraph({ db, log: createLogger({ level: 'silent' }), contextSecret: env.contextSecret });
  const port = await server.start(0, '127.0.0.1');
  cleanup.add(() => server.stop());
  call = subgraphClient(`http://127.0.0.1:${port}/graphql`, env.contextSecret);
  a = (await createTestTenant(db, 'iso')).id;
  b = (await createTestTenant(db, 'iso')).id;
  adminA = await user(a, 'TENANT_ADMIN');
  memberA = await user(a, 'MEMBER');
  adminB = await user(b, 'TENANT_ADMIN');
  memberB = await user(b, 'MEMBER');
});
afterAll(() => cleanup.run());

type Users = { users: { totalCount: number; edges: { node: { id: string; email: string } }[] } } | null;
const TENANT_USERS = `query($r: [_Any!]!) { _entities(representations: $r) {
  ... on Tenant { users(first: 100) { totalCount edges { node { id email } } } } } }`;
const usersOf = (as: Membership, tenantId: string) =>
  call<{ _entities: Users[] }>(as, TENANT_USERS, { r: [{ __typename: 'Tenant', id: tenantId }] });
const idsOf = (u: Users) => (u?.users.edges ?? []).map((e) => e.node.id).sort();

describe('Tenant.users', () => {
  it("a TENANT_ADMIN lists its own tenant's users, and only them", async () => {
    const r = await usersOf(adminA, a);
    expect(r.errors).toBeUndefined();
    expect(idsOf(r.data!._entities[0]!)).toEqual([adminA.userId, memberA.userId].sort());
    expect(r.data!._entities[0]!.users.totalCount).toBe(2);
  });

  it("another tenant's admin gets NOT_FOUND and none of its users", async () => {
    const r = await usersOf(adminA, b);
    expect(r.errors?.map((e) => e.extensions?.['code'])).toEqual(['NOT_FOUND']);
    const body = JSON.stringify(r);
    for (const u of [adminB, memberB]) {
      expect(body).not.toContain(u.userId);
      expect(body).not.toContain(u.email);
    }
  });

  it('a platform admin lists the tenant it names (the check and RLS are not over-strict)', async () => {
    const r = await usersOf(platform, b);
    expect(r.errors).toBeUndefined();
    expect(idsOf(r.data!._entities[0]!)).toEqual([adminB.userId, memberB.userId].sort());
  });
});

describe('User entity references', () => {
  const USERS = `query($r: [_Any!]!) { _entities(representations: $r) { ... on User { id email role } } }`;
  const refs = () => [memberA, memberB, { userId: 'not-a-uuid' }].map((u) => ({ __typename: 'User', id: u.userId }));

  it("resolve within the caller's tenant; another tenant's user is null", async () => {
    const asA = await call<{ _entities: ({ id: string } | null)[] }>(memberA, USERS, { r: refs() });
    expect(asA.errors).toBeUndefined();
    expect(asA.data!._entities.map((e) => e?.id ?? null)).toEqual([memberA.userId, null, null]);
    expect(JSON.stringify(asA)).not.toContain(memberB.email);
    const asB = await call<{ _entities: ({ id: string } | null)[] }>(adminB, USERS, { r: refs() });
    expect(asB.data!._entities.map((e) => e?.id ?? null)).toEqual([null, memberB.userId, null]);
  });
});
