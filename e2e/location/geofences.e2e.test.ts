/**
 * geofenceEvents through the router with real Cognito tokens: federated payloads
 * (`session { user { email } }`), the same visibility as locationUpdated (MEMBER own sessions,
 * admins the tenant, other tenants nothing), the geofenceId filter, and NOT_FOUND for another
 * tenant's fence or session.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthedStack, TestUser } from '../support/identity';
import { LiveSocket } from './liveSocket';
import { LiveClients, startLiveWorld } from './liveWorld';

let stack: AuthedStack;
let adminA: TestUser, alice: TestUser, bob: TestUser, adminB: TestUser;
const live = new LiveClients(() => stack);
const { as, subscribeAll } = live;

beforeAll(async () => {
  ({ stack, adminA, alice, bob, adminB } = await startLiveWorld('geo-live'));
});
afterAll(() => live.stop());

const open = (user: TestUser) => live.open(user);

let clock = Date.now() + 60_000;
const at = () => new Date((clock += 1_000)).toISOString();
const startSession = async (u: TestUser) =>
  (await as<{ startLocationSession: { id: string } }>(u, 'mutation { startLocationSession { id } }'))
    .startLocationSession.id;
const record = (u: TestUser, s: string, latitude: number, longitude: number) =>
  as(u, 'mutation($s: ID!, $l: LocationInput!) { recordLocation(sessionId: $s, location: $l) { id } }', {
    s,
    l: { latitude, longitude, recordedAt: at() },
  });
const fence = async (u: TestUser, name: string, latitude: number, longitude: number) =>
  (
    await as<{ createGeofence: { id: string } }>(
      u,
      'mutation($i: CreateGeofenceInput!) { createGeofence(input: $i) { id } }',
      { i: { name, circle: { latitude, longitude, radiusMeters: 1_000 } } },
    )
  ).createGeofence.id;

const SUB = `subscription($g: ID, $s: ID) { geofenceEvents(geofenceId: $g, sessionId: $s) {
  type at geofence { id name } session { id user { email } } point { latitude } } }`;
type Ev = {
  geofenceEvents: {
    type: string;
    geofence: { id: string; name: string };
    session: { id: string; user: { email: string } };
    point: { latitude: number };
  };
};

describe('geofenceEvents subscription', () => {
  it('federated payloads; MEMBERs own sessions, admins the tenant, other tenants nothing', async () => {
    const gA = await fence(adminA, 'depot A', 10, 10);
    const gB = await fence(adminB, 'depot B', 10, 10);
    const [wa, wb, wAdmin, wOther] = await Promise.all([open(alice), open(bob), open(adminA), open(adminB)]);
    await subscribeAll([wa, wb, wAdmin, wOther].map((w) => [w, 'g', SUB] as [LiveSocket, string, string]));
    const sa = await startSession(alice);
    const sb = await startSession(bob);
    await record(alice, sa, 10, 10); // ENTER gA
    const first = await wAdmin.next<Ev>('g');
    expect(first.errors).toBeUndefined();
    expect(first.data.geofenceEvents).toMatchObject({
      type: 'ENTER',
      geofence: { id: gA, name: 'depot A' },
      session: { id: sa, user: { email: alice.email } },
      point: { latitude: 10 },
    });
    expect((await wa.next<Ev>('g')).data.geofenceEvents.session.id).toBe(sa);
    await record(bob, sb, 10, 10); // ENTER gA (bob)
    expect((await wAdmin.next<Ev>('g')).data.geofenceEvents.session.id).toBe(sb);
    expect((await wb.next<Ev>('g')).data.geofenceEvents.session.id).toBe(sb);
    // Tenant B's own event arrives at its admin: nothing of tenant A's came before it.
    const sOther = await startSession(adminB);
    await record(adminB, sOther, 10, 10);
    const theirs = await wOther.next<Ev>('g');
    expect(theirs.data.geofenceEvents.geofence.id).toBe(gB);
    // Alice's sentinel after Bob's ENTER: Alice never saw Bob's.
    await record(alice, sa, 20, 20); // EXIT gA
    expect((await wa.next<Ev>('g')).data.geofenceEvents).toMatchObject({ type: 'EXIT', session: { id: sa } });
    expect(wOther.pending('g')).toEqual([]);
    expect(wa.pending('g')).toEqual([]);
  });

  it("geofenceId filters; another tenant's fence or session is NOT_FOUND", async () => {
    const g1 = await fence(adminA, 'one', 30, 30);
    const g2 = await fence(adminA, 'two', 30.5, 30);
    const w = await open(adminA);
    await subscribeAll([[w, 'one', SUB, { g: g1 }]]);
    const s = await startSession(alice);
    await record(alice, s, 30.5, 30); // ENTER g2 only: not delivered
    await record(alice, s, 30, 30); // EXIT g2, ENTER g1
    const got = await w.next<Ev>('one');
    expect(got.data.geofenceEvents).toMatchObject({ type: 'ENTER', geofence: { id: g1 } });
    expect(w.pending('one')).toEqual([]);
    expect(g2).not.toBe(g1);

    const wOther = await open(adminB);
    wOther.subscribe('f', SUB, { g: g1 });
    expect((await wOther.error('f'))[0]?.extensions?.['code']).toBe('NOT_FOUND');
    wOther.subscribe('s', SUB, { s });
    expect((await wOther.error('s'))[0]?.extensions?.['code']).toBe('NOT_FOUND');
  });
});
