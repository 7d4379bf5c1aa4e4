/**
 * Two router replicas sharing Redis pub/sub: a mutation handled by one router reaches subscribers
 * connected to the other, on per-tenant channels (nothing crosses tenants).
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createRedisPubSub, type PubSub } from '@lt/pubsub';
import { Cleanup, createTestTenant, testEnv, waitFor, type TestTenant } from '@lt/testing';
import { gql } from '../support/graphql';
import { bearer, createUserWithToken, startAuthedStack, type AuthedStack, type TestUser } from '../support/identity';
import { LiveSocket } from './liveSocket';
import { startRouterReplica, type Replica } from './replica';

const cleanup = new Cleanup();
let stack: AuthedStack;
let replica: Replica;
let tA: TestTenant;
let adminA: TestUser;
let alice: TestUser;
let adminB: TestUser;

/** One process's view of Redis pub/sub (its own two connections), as a separate replica would have. */
function redisPubSub(): PubSub {
  const url = testEnv().redisUrl;
  const publisher = new Redis(url, { maxRetriesPerRequest: 2, connectTimeout: 2_000 });
  const subscriber = new Redis(url, { maxRetriesPerRequest: 2, connectTimeout: 2_000 });
  const ps = createRedisPubSub({ publisher, subscriber });
  cleanup.add(async () => {
    await ps.close();
    publisher.disconnect();
    subscriber.disconnect();
  });
  return ps;
}

beforeAll(async () => {
  // Router A (with the subgraphs) and router B: separate Redis connections, shared channels.
  stack = await startAuthedStack({ pubsub: redisPubSub() });
  cleanup.add(() => stack.stop());
  replica = await startRouterReplica(stack, {
    authenticator: stack.routerIdentity!.authenticator,
    pubsub: redisPubSub(),
    identityWatch: stack.identity,
  });
  cleanup.add(() => replica.stop());
  tA = await createTestTenant(stack.db, 'replica');
  const tB = await createTestTenant(stack.db, 'replica');
  [adminA, alice, adminB] = await Promise.all([
    createUserWithToken(stack, { tenantId: tA.id, role: 'TENANT_ADMIN' }),
    createUserWithToken(stack, { tenantId: tA.id, role: 'MEMBER' }),
    createUserWithToken(stack, { tenantId: tB.id, role: 'TENANT_ADMIN' }),
  ]);
});
afterAll(() => cleanup.run());

async function as<T>(url: string, user: TestUser, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const r = await gql<T>(url, query, variables, bearer(user));
  if (r.errors) throw new Error(JSON.stringify(r.errors));
  return r.data!;
}

let clock = Date.now() + 60_000;
type Update = { locationUpdated: { session: { id: string; tenant: { name: string } }; point: { latitude: number } } };
const Q = 'subscription { locationUpdated { session { id tenant { name } } point { latitude } } }';

async function openOn(url: string, user: TestUser): Promise<LiveSocket> {
  const s = await LiveSocket.open(url, `Bearer ${user.accessToken}`);
  cleanup.add(() => s.close());
  await s.acked();
  return s;
}

async function recordVia(url: string, user: TestUser, sessionId: string, latitude: number): Promise<void> {
  await as(url, user, 'mutation($s: ID!, $l: LocationInput!) { recordLocation(sessionId: $s, location: $l) { id } }', {
    s: sessionId,
    l: { latitude, longitude: 2, recordedAt: new Date((clock += 13)).toISOString() },
  });
}

it('a mutation through one router reaches subscribers on the other, and never another tenant', async () => {
  const onB = await openOn(replica.url, adminA);
  const otherOnB = await openOn(replica.url, adminB);
  const onA = await openOn(stack.routerUrl, adminA);
  const liveB = () => replica.engine()!.stats().subscriptions;
  const liveA = () => stack.subscriptions()!.stats().subscriptions;
  const [b0, a0] = [liveB(), liveA()];
  onB.subscribe('u', Q);
  otherOnB.subscribe('u', Q);
  onA.subscribe('u', Q);
  await waitFor(() => liveB() >= b0 + 2 && liveA() >= a0 + 1, { what: 'subscriptions live on both routers' });

  // Through router A, seen on B (and A).
  const s = (
    await as<{ startLocationSession: { id: string } }>(
      stack.routerUrl,
      alice,
      'mutation { startLocationSession { id } }',
    )
  ).startLocationSession.id;
  await recordVia(stack.routerUrl, alice, s, 11);
  const got = await onB.next<Update>('u');
  expect(got.data.locationUpdated).toEqual({ session: { id: s, tenant: { name: tA.name } }, point: { latitude: 11 } });
  expect((await onA.next<Update>('u')).data.locationUpdated.point.latitude).toBe(11);

  // Through router B, seen on A.
  await recordVia(replica.url, alice, s, 12);
  expect((await onA.next<Update>('u')).data.locationUpdated.point.latitude).toBe(12);
  expect((await onB.next<Update>('u')).data.locationUpdated.point.latitude).toBe(12);

  // Tenant B's subscriber on B: its first message is its own tenant's sentinel, nothing of A's.
  const sb = (
    await as<{ startLocationSession: { id: string } }>(
      stack.routerUrl,
      adminB,
      'mutation { startLocationSession { id } }',
    )
  ).startLocationSession.id;
  await recordVia(stack.routerUrl, adminB, sb, 33);
  expect((await otherOnB.next<Update>('u')).data.locationUpdated.session.id).toBe(sb);
  expect(otherOnB.pending('u')).toEqual([]);
});
