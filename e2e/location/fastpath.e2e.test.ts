/**
 * Live events served from the event itself: a `locationUpdated` selection that only
 * touches fields the location subgraph owns is answered from the small batch's payload without a
 * gateway re-read — same payload as the re-read, same visibility — while cross-subgraph
 * selections and large batches keep the re-read.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LIVE_PAYLOAD_MAX_POINTS } from '@lt/events';
import { createTestTenant, waitFor, type TestTenant } from '@lt/testing';
import { gql } from '../support/graphql';
import { bearer, createUserWithToken, startAuthedStack, type AuthedStack, type TestUser } from '../support/identity';
import { LiveSocket } from './liveSocket';

let stack: AuthedStack;
let tA: TestTenant;
let tB: TestTenant;
let adminA: TestUser;
let alice: TestUser;
let bob: TestUser;
let adminB: TestUser;
const sockets: LiveSocket[] = [];

beforeAll(async () => {
  stack = await startAuthedStack();
  tA = await createTestTenant(stack.db, 'fast');
  tB = await createTestTenant(stack.db, 'fast');
  [adminA, alice, bob, adminB] = await Promise.all([
    createUserWithToken(stack, { tenantId: tA.id, role: 'TENANT_ADMIN' }),
    createUserWithToken(stack, { tenantId: tA.id, role: 'MEMBER' }),
    createUserWithToken(stack, { tenantId: tA.id, role: 'MEMBER' }),
    createUserWithToken(stack, { tenantId: tB.id, role: 'TENANT_ADMIN' }),
  ]);
});
afterEach(async () => {
  await Promise.allSettled(sockets.splice(0).map((s) => s.close()));
});
afterAll(async () => {
  await stack?.stop();
});

async function open(user: TestUser): Promise<LiveSocket> {
  const s = await LiveSocket.open(stack.routerUrl, `Bearer ${user.accessToken}`);
  sockets.push(s);
  await s.acked();
  return s;
}

async function as<T>(user: TestUser, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const r = await gql<T>(stack.routerUrl, query, variables, bearer(user));
  if (r.errors) throw new Error(JSON.stringify(r.errors));
  return r.data!;
}

const engine = () => stack.subscriptions()!.stats();

async function subscribeAll(subs: [LiveSocket, string, string, Record<string, unknown>?][]): Promise<void> {
  // Earlier tests' sockets are gone first: the served counters then count this test's groups only.
  await waitFor(() => engine().subscriptions === 0, { what: 'earlier subscriptions closed' });
  const before = engine().subscriptions;
  for (const [w, id, q, v] of subs) w.subscribe(id, q, v ?? {});
  await waitFor(() => engine().subscriptions >= before + subs.length, { what: `${subs.length} live subscriptions` });
}

let clock = Date.now() + 60_000;
const at = () => new Date((clock += 13)).toISOString();

async function startSession(user: TestUser): Promise<string> {
  const d = await as<{ startLocationSession: { id: string } }>(
    user,
    'mutation { startLocationSession(input: { deviceId: "fast-dev" }) { id } }',
  );
  return d.startLocationSession.id;
}
async function recordBatch(user: TestUser, sessionId: string, latitudes: number[]): Promise<void> {
  const d = await as<{ recordLocations: { accepted: number } }>(
    user,
    'mutation($s: ID!, $ls: [LocationInput!]!) { recordLocations(sessionId: $s, locations: $ls) { accepted } }',
    { s: sessionId, ls: latitudes.map((latitude) => ({ latitude, longitude: 7.25, accuracy: 3, recordedAt: at() })) },
  );
  expect(d.recordLocations.accepted).toBe(latitudes.length);
}

/** Every carried field, with aliases, __typename, an inline fragment and a named fragment. */
const SELECTION = `__typename
  s: session { __typename id owner: user { __typename id } tenant { id } status deviceId startedAt endedAt pointCount
    ... on LocationSession { sid: id } }
  point { ...P lat: latitude }`;
const FRAGMENT = `fragment P on LocationPoint { __typename id longitude accuracy altitude speed heading recordedAt receivedAt }`;
const FAST = `subscription($s: ID) { live: locationUpdated(sessionId: $s) { ${SELECTION} } } ${FRAGMENT}`;
type Item = { point: { id: string; lat: number }; s: { id: string; owner: { id: string } } };
type Fast = { live: Item };

describe('serving live events from the event payload', () => {
  it('answers a location-only selection without a re-read, with the payload the re-read gives', async () => {
    const s = await startSession(alice);
    const w = await open(alice);
    await subscribeAll([[w, 'f', FAST, { s }]]);
    const before = engine().served;
    await recordBatch(alice, s, [1.5, 2.5, 3.5]);
    const got = [await w.next<Fast>('f'), await w.next<Fast>('f'), await w.next<Fast>('f')];
    for (const g of got) expect(g.errors).toBeUndefined();
    const after = engine().served;
    expect(after.fromEvent - before.fromEvent).toBe(1);
    expect(after.reRead - before.reRead).toBe(0);
    // The same selection re-read through the gateway as Alice, right after the commit.
    const reRead = await as<{ live: Item[] }>(
      alice,
      `query($p: [ID!]!) { live: liveLocationUpdates(pointIds: $p) { ${SELECTION} } } ${FRAGMENT}`,
      { p: got.map((g) => g.data.live.point.id) },
    );
    expect(reRead.live).toHaveLength(3);
    expect(got.map((g) => g.data.live)).toEqual(reRead.live);
    expect(got.map((g) => g.data.live.point.lat)).toEqual([1.5, 2.5, 3.5]);
    expect(reRead.live[0]).toMatchObject({
      __typename: 'LocationUpdate',
      s: { __typename: 'LocationSession', owner: { __typename: 'User', id: alice.userId }, tenant: { id: tA.id } },
    });
    await w.close();
  });

  it("a MEMBER never receives another member's points through the fast path; other tenants nothing", async () => {
    const Q = 'subscription { locationUpdated { session { id user { id } } point { id lat: latitude } } }';
    type U = { locationUpdated: { session: { id: string; user: { id: string } }; point: { lat: number } } };
    const [wa, wb, wAdmin, wOther] = await Promise.all([open(alice), open(bob), open(adminA), open(adminB)]);
    await subscribeAll([wa, wb, wAdmin, wOther].map((w) => [w, 'u', Q] as [LiveSocket, string, string]));
    const sa = await startSession(alice);
    const sb = await startSession(bob);
    const before = engine().served;
    await recordBatch(bob, sb, [21, 22]);
    await recordBatch(alice, sa, [11]);
    // Admin: all three; Alice: only hers (Bob's two came first, so they would have arrived first).
    const adminGot = [];
    for (let i = 0; i < 3; i++) adminGot.push((await wAdmin.next<U>('u')).data.locationUpdated.point.lat);
    expect(adminGot.sort()).toEqual([11, 21, 22]);
    const aliceGot = await wa.next<U>('u');
    expect(aliceGot.data.locationUpdated).toMatchObject({
      session: { id: sa, user: { id: alice.userId } },
      point: { lat: 11 },
    });
    expect(wa.pending('u')).toEqual([]);
    // Bob's sentinel after Alice's point: Bob got his two, never Alice's.
    await recordBatch(bob, sb, [23]);
    const bobGot = [];
    for (let i = 0; i < 3; i++) bobGot.push((await wb.next<U>('u')).data.locationUpdated.point.lat);
    expect(bobGot).toEqual([21, 22, 23]);
    // Tenant B's sentinel arrives after anything tenant A could have leaked to it.
    const sOther = await startSession(adminB);
    await recordBatch(adminB, sOther, [9.9]);
    expect((await wOther.next<U>('u')).data.locationUpdated.point.lat).toBe(9.9);
    expect(wOther.pending('u')).toEqual([]);
    const after = engine().served;
    expect(after.reRead - before.reRead).toBe(0);
    expect(after.fromEvent - before.fromEvent).toBeGreaterThanOrEqual(6);
    await Promise.all([wa.close(), wb.close(), wAdmin.close(), wOther.close()]);
  });

  it('a cross-subgraph selection still goes through the gateway', async () => {
    const Q = `subscription($s: ID) { locationUpdated(sessionId: $s) {
      session { id user { id email } tenant { id name } } point { lat: latitude } } }`;
    type U = {
      locationUpdated: { session: { user: { email: string }; tenant: { name: string } }; point: { lat: number } };
    };
    const s = await startSession(alice);
    const w = await open(alice);
    await subscribeAll([[w, 'x', Q, { s }]]);
    const before = engine().served;
    await recordBatch(alice, s, [44]);
    const got = await w.next<U>('x');
    expect(got.data.locationUpdated).toMatchObject({
      session: { user: { email: alice.email }, tenant: { name: tA.name } },
      point: { lat: 44 },
    });
    const after = engine().served;
    expect(after.reRead - before.reRead).toBe(1);
    expect(after.fromEvent - before.fromEvent).toBe(0);
    await w.close();
  });

  it(`a batch over ${LIVE_PAYLOAD_MAX_POINTS} points falls back to the re-read, same payloads`, async () => {
    const s = await startSession(alice);
    const w = await open(alice);
    await subscribeAll([[w, 'f', FAST, { s }]]);
    const before = engine().served;
    const lats = Array.from({ length: LIVE_PAYLOAD_MAX_POINTS + 1 }, (_, i) => 30 + i / 100);
    await recordBatch(alice, s, lats);
    const got: Fast[] = [];
    for (let i = 0; i < lats.length; i++) got.push((await w.next<Fast>('f')).data);
    expect(got.map((g) => g.live.point.lat)).toEqual(lats);
    const after = engine().served;
    expect(after.fromEvent - before.fromEvent).toBe(0);
    expect(after.reRead - before.reRead).toBeGreaterThanOrEqual(1);
    expect(got.every((g) => g.live.s.id === s && g.live.s.owner.id === alice.userId)).toBe(true);
    await w.close();
  });
});
