/**
 * The location API through the router with real Cognito tokens: the visibility matrix (MEMBER own,
 * TENANT_ADMIN tenant, other tenant NOT_FOUND), validation naming the field, retry safety, and the
 * federated session (user and tenant resolved by their own subgraphs).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestTenant, type TestTenant } from '@lt/testing';
import { codes, gql } from '../support/graphql';
import { bearer, createUserWithToken, startAuthedStack, type AuthedStack, type TestUser } from '../support/identity';

let stack: AuthedStack;
let tA: TestTenant;
let admin: TestUser;
let alice: TestUser;
let bob: TestUser;
let other: TestUser;
let aliceSession: string;
let bobSession: string;

const call = (user: TestUser, query: string, variables: Record<string, unknown> = {}) =>
  gql<Record<string, unknown>>(stack.routerUrl, query, variables, bearer(user));

let clock = Date.now() + 60_000;
const point = (over: Record<string, unknown> = {}) => ({
  latitude: 48.1,
  longitude: 11.5,
  recordedAt: new Date((clock += 17)).toISOString(),
  ...over,
});

const START = 'mutation { startLocationSession(input: { deviceId: "phone" }) { id } }';
const GET = 'query($id: ID!) { locationSession(id: $id) { id pointCount user { email } tenant { name } } }';
const RECORD = 'mutation($s: ID!, $l: LocationInput!) { recordLocation(sessionId: $s, location: $l) { id } }';
const BATCH =
  'mutation($s: ID!, $ls: [LocationInput!]!) { recordLocations(sessionId: $s, locations: $ls) { accepted duplicates } }';
const STOP = 'mutation($id: ID!) { stopLocationSession(id: $id) { status } }';
const LIST = '{ locationSessions(first: 100) { edges { node { id } } } }';

beforeAll(async () => {
  stack = await startAuthedStack();
  tA = await createTestTenant(stack.db, 'locapi');
  const tB = await createTestTenant(stack.db, 'locapi');
  [admin, alice, bob, other] = await Promise.all([
    createUserWithToken(stack, { tenantId: tA.id, role: 'TENANT_ADMIN' }),
    createUserWithToken(stack, { tenantId: tA.id, role: 'MEMBER' }),
    createUserWithToken(stack, { tenantId: tA.id, role: 'MEMBER' }),
    createUserWithToken(stack, { tenantId: tB.id, role: 'TENANT_ADMIN' }),
  ]);
  const a = await call(alice, START);
  const b = await call(bob, START);
  aliceSession = (a.data!['startLocationSession'] as { id: string }).id;
  bobSession = (b.data!['startLocationSession'] as { id: string }).id;
});
afterAll(() => stack?.stop());

describe('visibility matrix through the router', () => {
  const ids = (r: { data?: Record<string, unknown> | null }) =>
    (r.data!['locationSessions'] as { edges: { node: { id: string } }[] }).edges.map((e) => e.node.id);

  it('owner MEMBER: reads, records, sees user and tenant from their subgraphs', async () => {
    expect((await call(alice, RECORD, { s: aliceSession, l: point() })).errors).toBeUndefined();
    const r = await call(alice, GET, { id: aliceSession });
    expect(r.data!['locationSession']).toMatchObject({
      id: aliceSession,
      pointCount: 1,
      user: { email: alice.email },
      tenant: { name: tA.name },
    });
    expect(ids(await call(alice, LIST))).toEqual([aliceSession]);
  });

  it('other MEMBER of the tenant: NOT_FOUND on every operation, absent from its list', async () => {
    for (const [q, v] of [
      [GET, { id: aliceSession }],
      [RECORD, { s: aliceSession, l: point() }],
      [BATCH, { s: aliceSession, ls: [point()] }],
      [STOP, { id: aliceSession }],
    ] as const)
      expect(codes(await call(bob, q, v))).toEqual(['NOT_FOUND']);
    expect(ids(await call(bob, LIST))).toEqual([bobSession]);
  });

  it('TENANT_ADMIN: every session of its tenant', async () => {
    expect((await call(admin, GET, { id: bobSession })).errors).toBeUndefined();
    expect(ids(await call(admin, LIST))).toEqual(expect.arrayContaining([aliceSession, bobSession]));
  });

  it('another tenant: NOT_FOUND on every operation, nothing in its list', async () => {
    for (const [q, v] of [
      [GET, { id: aliceSession }],
      [RECORD, { s: aliceSession, l: point() }],
      [BATCH, { s: aliceSession, ls: [point()] }],
      [STOP, { id: aliceSession }],
    ] as const) {
      const r = await call(other, q, v);
      expect(codes(r)).toEqual(['NOT_FOUND']);
      // Nothing about the inside: no subgraph name, no stack, only the code and the field.
      expect(Object.keys(r.errors![0]!.extensions ?? {}).sort()).toEqual(['code', 'field']);
    }
    expect(ids(await call(other, LIST))).toEqual([]);
  });

  it('no token: refused', async () => {
    const r = await gql(stack.routerUrl, GET, { id: aliceSession });
    // The router removes the @authenticated field before planning: null and one error naming why.
    expect(r.data).toEqual({ locationSession: null });
    expect(codes(r)).toEqual(['UNAUTHORIZED_FIELD_OR_TYPE']);
    expect(JSON.stringify(r)).not.toContain(aliceSession);
  });
});

describe('validation and retries through the router', () => {
  it('names the offending field, with the index in batches, and writes nothing', async () => {
    const r = await call(alice, RECORD, { s: aliceSession, l: point({ heading: 360 }) });
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'location.heading' });
    const b = await call(alice, BATCH, { s: aliceSession, ls: [point(), point({ longitude: -181 }), point()] });
    expect(b.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'locations[1].longitude' });
    const n = await call(alice, GET, { id: aliceSession });
    expect((n.data!['locationSession'] as { pointCount: number }).pointCount).toBe(1);
  });

  it('a re-sent batch stores nothing twice', async () => {
    const ls = [point(), point({ idempotencyKey: 'k-1' })];
    const first = await call(alice, BATCH, { s: aliceSession, ls });
    const again = await call(alice, BATCH, { s: aliceSession, ls });
    expect(first.data!['recordLocations']).toEqual({ accepted: 2, duplicates: 0 });
    expect(again.data!['recordLocations']).toEqual({ accepted: 0, duplicates: 2 });
  });

  it('an ENDED session refuses points with CONFLICT', async () => {
    const s = ((await call(alice, START)).data!['startLocationSession'] as { id: string }).id;
    expect((await call(alice, STOP, { id: s })).data!['stopLocationSession']).toEqual({ status: 'ENDED' });
    expect(codes(await call(alice, RECORD, { s, l: point() }))).toEqual(['CONFLICT']);
  });
});
