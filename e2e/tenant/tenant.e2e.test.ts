/**
 * Tenant management through the router, with real Cognito tokens: cross-tenant
 * NOT_FOUND, slug conflicts, PLATFORM_ADMIN-only operations, tenant-events written atomically,
 * Tenant references from other subgraphs, and suspension cutting off already-issued tokens within
 * seconds (HTTP, invitations, recording points) until reactivation restores them.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTenant } from '@lt/db';
import { createRedisIdentityBus, type RedisIdentityBus } from '@lt/identity';
import { Cleanup, testEnv, uniqueName, waitFor } from '@lt/testing';
import { LiveSocket } from '../location/liveSocket';
import { codes, gql, type GraphQLResponse } from '../support/graphql';
import {
  bearer,
  createUserWithToken,
  startAuthedStack,
  testEmail,
  testPassword,
  type AuthedStack,
  type TestUser,
} from '../support/identity';

const TENANT = 'id name slug status';
const CREATE = `mutation($input: CreateTenantInput!) { createTenant(input: $input) { ${TENANT} } }`;
const UPDATE = `mutation($id: ID!, $input: UpdateTenantInput!) { updateTenant(id: $id, input: $input) { ${TENANT} } }`;
const GET = `query($id: ID!) { tenant(id: $id) { ${TENANT} } }`;
const MINE = `{ myTenant { ${TENANT} } }`;
const LIST = `{ tenants(first: 5) { totalCount edges { node { id } } } }`;
const SUSPEND = `mutation($id: ID!) { suspendTenant(id: $id) { id status } }`;
const REACTIVATE = `mutation($id: ID!) { reactivateTenant(id: $id) { id status } }`;
const ME = `{ me { id tenant { id name status } } }`;

interface TenantOut {
  id: string;
  name: string;
  slug: string;
  status: 'ACTIVE' | 'SUSPENDED';
}

let stack: AuthedStack;
let platform: TestUser;
const cleanup = new Cleanup();

const call = <T = Record<string, unknown>>(
  user: TestUser | null,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<GraphQLResponse<T>> => gql<T>(stack.routerUrl, query, variables, user ? bearer(user) : {});

const slug = (): string => uniqueName('e2e').toLowerCase();

async function createTenant(name: string): Promise<TenantOut> {
  const r = await call<{ createTenant: TenantOut }>(platform, CREATE, { input: { name, slug: slug() } });
  expect(r.errors).toBeUndefined();
  return r.data!.createTenant;
}

const eventTypes = async (tenantId: string): Promise<string[]> =>
  (
    await withTenant(stack.db, tenantId, (tx) =>
      tx.outbox.findMany({ where: { topic: 'tenant-events' }, orderBy: { seq: 'asc' }, select: { type: true } }),
    )
  ).map((e) => e.type);

beforeAll(async () => {
  // The deployed wiring: identity changes travel over Redis (the bus that also drops the shared
  // membership cache entries of a suspended tenant), not the in-process bus.
  const connect = (): Redis => new Redis(testEnv().redisUrl, { maxRetriesPerRequest: 2, connectTimeout: 2_000 });
  const publisher = connect();
  cleanup.add(() => publisher.disconnect());
  const subscriber = connect();
  cleanup.add(() => subscriber.disconnect());
  const identity: RedisIdentityBus = await createRedisIdentityBus({ redis: publisher, subscriber });
  cleanup.add(() => identity.close());
  stack = await startAuthedStack({ identity });
  cleanup.add(() => stack.stop());
  platform = await createUserWithToken(stack, { role: 'PLATFORM_ADMIN' });
});
afterAll(async () => {
  await cleanup.run();
});

describe('tenants through the router', () => {
  let a: TenantOut;
  let b: TenantOut;
  let adminA: TestUser;
  let memberA: TestUser;
  let adminB: TestUser;
  beforeAll(async () => {
    a = await createTenant('Tenant A');
    b = await createTenant('Tenant B');
    adminA = await createUserWithToken(stack, { role: 'TENANT_ADMIN', tenantId: a.id });
    memberA = await createUserWithToken(stack, { role: 'MEMBER', tenantId: a.id });
    adminB = await createUserWithToken(stack, { role: 'TENANT_ADMIN', tenantId: b.id });
  });

  it('a PLATFORM_ADMIN created them; each writes tenant.created.v1', async () => {
    expect(a.status).toBe('ACTIVE');
    expect(await eventTypes(a.id)).toEqual(['tenant.created.v1']);
    expect(await eventTypes(b.id)).toEqual(['tenant.created.v1']);
  });

  it('users read their own tenant (by id, myTenant, and User.tenant resolved from the auth subgraph)', async () => {
    for (const user of [adminA, memberA]) {
      expect((await call<{ tenant: TenantOut }>(user, GET, { id: a.id })).data!.tenant).toEqual(a);
      expect((await call<{ myTenant: TenantOut }>(user, MINE)).data!.myTenant).toEqual(a);
      const me = await call<{ me: { tenant: { id: string; name: string; status: string } } }>(user, ME);
      expect(me.errors).toBeUndefined();
      expect(me.data!.me.tenant).toEqual({ id: a.id, name: a.name, status: 'ACTIVE' });
    }
  });

  it('another tenant by id is NOT_FOUND for its neighbours; a PLATFORM_ADMIN sees it', async () => {
    for (const [user, other] of [
      [adminA, b],
      [memberA, b],
      [adminB, a],
    ] as const) {
      const r = await call(user, GET, { id: other.id });
      expect(codes(r)).toEqual(['NOT_FOUND']);
      expect(JSON.stringify(r)).not.toContain(other.name);
    }
    expect((await call<{ tenant: TenantOut }>(platform, GET, { id: b.id })).data!.tenant).toEqual(b);
  });

  it('a TENANT_ADMIN updating another tenant gets NOT_FOUND; its own works and writes tenant.updated.v1', async () => {
    expect(codes(await call(adminA, UPDATE, { id: b.id, input: { name: 'Taken over' } }))).toEqual(['NOT_FOUND']);
    expect(await eventTypes(b.id)).toEqual(['tenant.created.v1']);
    const r = await call<{ updateTenant: TenantOut }>(adminA, UPDATE, { id: a.id, input: { name: 'Tenant A2' } });
    expect(r.errors).toBeUndefined();
    expect(r.data!.updateTenant.name).toBe('Tenant A2');
    a = r.data!.updateTenant;
    expect(await eventTypes(a.id)).toEqual(['tenant.created.v1', 'tenant.updated.v1']);
  });

  it('slug conflicts answer CONFLICT on slug; the failed update changes nothing and writes no event', async () => {
    const dup = await call(platform, CREATE, { input: { name: 'Dup', slug: b.slug } });
    expect(codes(dup)).toEqual(['CONFLICT']);
    expect(dup.errors![0]!.extensions!['field']).toBe('slug');

    const before = await eventTypes(a.id);
    const r = await call(adminA, UPDATE, { id: a.id, input: { name: 'Should not stick', slug: b.slug } });
    expect(codes(r)).toEqual(['CONFLICT']);
    expect(r.errors![0]!.extensions!['field']).toBe('slug');
    expect((await call<{ tenant: TenantOut }>(adminA, GET, { id: a.id })).data!.tenant).toEqual(a);
    expect(await eventTypes(a.id)).toEqual(before);
  });

  it('PLATFORM_ADMIN-only operations are refused to TENANT_ADMIN and MEMBER, with no effect', async () => {
    for (const user of [adminA, memberA]) {
      const attempts = [
        await call(user, CREATE, { input: { name: 'Mine', slug: slug() } }),
        await call(user, SUSPEND, { id: a.id }),
        await call(user, REACTIVATE, { id: a.id }),
        await call(user, SUSPEND, { id: b.id }),
        await call(user, LIST),
      ];
      for (const r of attempts) {
        // Nothing comes back: each root field here is non-null, so the removed field nulls the whole
        // result (an executed response with `data: null`, not a request refused without one).
        expect(r).toHaveProperty('data', null);
        // The router's @requiresScopes gate answers first (the subgraph's own FORBIDDEN is the
        // second line: subgraphs/tenant/test/tenant.int.test.ts).
        expect(codes(r)).toEqual(['UNAUTHORIZED_FIELD_OR_TYPE']);
      }
    }
    expect((await call<{ tenant: TenantOut }>(platform, GET, { id: a.id })).data!.tenant.status).toBe('ACTIVE');
    expect((await call<{ tenant: TenantOut }>(platform, GET, { id: b.id })).data!.tenant.status).toBe('ACTIVE');
    const list = await call<{ tenants: { totalCount: number } }>(platform, LIST);
    expect(list.errors).toBeUndefined();
    expect(list.data!.tenants.totalCount).toBeGreaterThanOrEqual(2);
  });
});

describe('suspension', () => {
  const START = `mutation { startLocationSession(input: { deviceId: "d1" }) { id tenant { id } } }`;
  const RECORD = `mutation($s: ID!, $at: DateTime!) { recordLocation(sessionId: $s, location: { latitude: 1, longitude: 2, recordedAt: $at }) { id } }`;
  const INVITE = `mutation($input: InviteUserInput!) { inviteUser(input: $input) { code } }`;
  const REGISTER = `mutation($input: RegisterInput!) { register(input: $input) { user { id } } }`;

  it('cuts off already-issued tokens, refuses its invitations and points; reactivation restores them', async () => {
    const t = await createTenant('Suspended soon');
    const other = await createTenant('Bystander');
    const admin = await createUserWithToken(stack, { role: 'TENANT_ADMIN', tenantId: t.id });
    const member = await createUserWithToken(stack, { role: 'MEMBER', tenantId: t.id });
    const bystander = await createUserWithToken(stack, { role: 'MEMBER', tenantId: other.id });

    // Before: the tokens work (and their memberships are now cached by the router).
    expect((await call<{ myTenant: TenantOut }>(admin, MINE)).data!.myTenant.status).toBe('ACTIVE');
    const started = await call<{ startLocationSession: { id: string; tenant: { id: string } } }>(member, START);
    expect(started.errors).toBeUndefined();
    expect(started.data!.startLocationSession.tenant.id).toBe(t.id);
    const sessionId = started.data!.startLocationSession.id;
    const at = (): string => new Date().toISOString();
    expect((await call(member, RECORD, { s: sessionId, at: at() })).errors).toBeUndefined();
    const inviteEmail = testEmail('late');
    const invite = await call<{ inviteUser: { code: string } }>(admin, INVITE, {
      input: { email: inviteEmail, role: 'MEMBER' },
    });
    expect(invite.errors).toBeUndefined();

    // Open WebSockets of both tenants, subscribed.
    const EVENTS = `subscription { sessionEvents { type session { id } } }`;
    const socket = await LiveSocket.open(stack.routerUrl, `Bearer ${member.accessToken}`);
    cleanup.add(() => socket.close());
    await socket.acked();
    socket.subscribe('s1', EVENTS);
    const bystanderSocket = await LiveSocket.open(stack.routerUrl, `Bearer ${bystander.accessToken}`);
    cleanup.add(() => bystanderSocket.close());
    await bystanderSocket.acked();
    bystanderSocket.subscribe('b1', EVENTS);

    // Suspend; the same tokens are refused (once the identity event has reached the router), and the
    // open socket is closed.
    const s = await call<{ suspendTenant: TenantOut }>(platform, SUSPEND, { id: t.id });
    expect(s.data!.suspendTenant.status).toBe('SUSPENDED');
    await waitFor(async () => codes(await call(admin, MINE))[0] === 'UNAUTHENTICATED', {
      timeoutMs: 5_000,
      what: 'the suspended tenant admin token to be refused',
    });
    const closed = await Promise.race([
      socket.closed,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('socket not closed within 5 s')), 5_000)),
    ]);
    expect(closed).toEqual({ code: 4401, reason: 'Tenant suspended' });
    expect(codes(await call(member, RECORD, { s: sessionId, at: at() }))).toEqual(['UNAUTHENTICATED']);
    expect(codes(await call(member, START))).toEqual(['UNAUTHENTICATED']);
    const reg = await call(null, REGISTER, {
      input: { invitationCode: invite.data!.inviteUser.code, email: inviteEmail, password: testPassword() },
    });
    expect(codes(reg)).toEqual(['BAD_USER_INPUT']);
    // Other tenants are not affected: HTTP works and the open socket still delivers.
    expect((await call<{ myTenant: TenantOut }>(bystander, MINE)).data!.myTenant.id).toBe(other.id);
    const bystanderSession = await call<{ startLocationSession: { id: string } }>(bystander, START);
    expect(bystanderSession.errors).toBeUndefined();
    const live = await bystanderSocket.next<{ sessionEvents: { type: string; session: { id: string } } }>('b1', 5_000);
    expect(live.data.sessionEvents).toEqual({
      type: 'STARTED',
      session: { id: bystanderSession.data!.startLocationSession.id },
    });
    expect(await eventTypes(t.id)).toEqual(['tenant.created.v1', 'tenant.suspended.v1']);

    // Reactivate: the same tokens work again, no new sign-up needed.
    const r = await call<{ reactivateTenant: TenantOut }>(platform, REACTIVATE, { id: t.id });
    expect(r.data!.reactivateTenant.status).toBe('ACTIVE');
    await waitFor(async () => (await call<{ myTenant: TenantOut }>(admin, MINE)).data?.myTenant?.status === 'ACTIVE', {
      timeoutMs: 5_000,
      what: 'the reactivated tenant admin token to be accepted',
    });
    expect((await call(member, RECORD, { s: sessionId, at: at() })).errors).toBeUndefined();
    expect(await eventTypes(t.id)).toEqual(['tenant.created.v1', 'tenant.suspended.v1', 'tenant.reactivated.v1']);
  });
});
