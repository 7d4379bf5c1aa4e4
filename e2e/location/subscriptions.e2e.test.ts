/**
 * Live subscriptions through the router (graphql-transport-ws on /graphql) with real Cognito
 * tokens: federated payloads from three subgraphs, visibility (MEMBER own / TENANT_ADMIN tenant /
 * other tenant nothing and NOT_FOUND), shared upstream sources, limits, slow consumers, and
 * sockets closed on token expiry, logout, removal and suspension.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestTenant, waitFor, type TestTenant } from '@lt/testing';
import { gql } from '../support/graphql';
import { bearer, createUserWithToken, type AuthedStack, type TestUser } from '../support/identity';
import { LiveSocket } from './liveSocket';
import { LiveClients, startLiveWorld } from './liveWorld';
import { startRouterReplica, type Replica } from './replica';

let stack: AuthedStack, tA: TestTenant;
let adminA: TestUser, alice: TestUser, bob: TestUser, adminB: TestUser;
const live = new LiveClients(() => stack);
const { as, subscribeAll } = live;

beforeAll(async () => {
  ({ stack, tA, adminA, alice, bob, adminB } = await startLiveWorld('live', {
    subscriptionLimits: { perConnection: 5, maxBufferedBytes: 512 * 1024 },
  }));
});
afterAll(() => live.stop());

const open = (user: TestUser | null, url?: string) => live.open(user, { url, acked: false });

let clock = Date.now() + 60_000;
const at = () => new Date((clock += 11)).toISOString();

async function startSession(user: TestUser): Promise<string> {
  const d = await as<{ startLocationSession: { id: string } }>(user, 'mutation { startLocationSession { id } }');
  return d.startLocationSession.id;
}
async function record(user: TestUser, sessionId: string, latitude: number): Promise<string> {
  const d = await as<{ recordLocation: { id: string } }>(
    user,
    'mutation($s: ID!, $l: LocationInput!) { recordLocation(sessionId: $s, location: $l) { id } }',
    { s: sessionId, l: { latitude, longitude: 1, recordedAt: at() } },
  );
  return d.recordLocation.id;
}

const UPDATES = `subscription($s: ID) { locationUpdated(sessionId: $s) {
  session { id user { id email } tenant { id name } } point { id latitude } } }`;
type Update = {
  locationUpdated: {
    session: { id: string; user: { id: string; email: string }; tenant: { id: string; name: string } };
    point: { id: string; latitude: number };
  };
};

describe('federated payloads and visibility', () => {
  it('resolves fields of three subgraphs (location, auth, tenant) in each event', async () => {
    const ws = await open(adminA);
    await ws.acked();
    await subscribeAll([[ws, '1', UPDATES]]);
    const s = await startSession(alice);
    const pointId = await record(alice, s, 45.5);
    const { data, errors } = await ws.next<Update>('1');
    expect(errors).toBeUndefined();
    expect(data.locationUpdated).toEqual({
      session: { id: s, user: { id: alice.userId, email: alice.email }, tenant: { id: tA.id, name: tA.name } },
      point: { id: pointId, latitude: 45.5 },
    });
    await ws.close();
  });

  it('MEMBERs receive their own sessions only, admins their whole tenant, other tenants nothing', async () => {
    const [wa, wb, wAdmin, wOther] = await Promise.all([open(alice), open(bob), open(adminA), open(adminB)]);
    await Promise.all([wa.acked(), wb.acked(), wAdmin.acked(), wOther.acked()]);
    const Q = 'subscription { locationUpdated { session { id } point { latitude } } }';
    await subscribeAll([wa, wb, wAdmin, wOther].map((w) => [w, 'u', Q] as [LiveSocket, string, string]));
    const sa = await startSession(alice);
    const sb = await startSession(bob);
    await record(alice, sa, 1);
    await record(bob, sb, 2);
    const adminGot = [await wAdmin.next<Update>('u'), await wAdmin.next<Update>('u')].map(
      (r) => r.data.locationUpdated.point.latitude,
    );
    expect(adminGot.sort()).toEqual([1, 2]);
    expect((await wa.next<Update>('u')).data.locationUpdated.session.id).toBe(sa);
    expect((await wb.next<Update>('u')).data.locationUpdated.session.id).toBe(sb);
    // A sentinel in tenant B: it arrives after anything tenant A could have leaked to wOther.
    const sOther = await startSession(adminB);
    await record(adminB, sOther, 3);
    expect((await wOther.next<Update>('u')).data.locationUpdated.point.latitude).toBe(3);
    await record(alice, sa, 4);
    expect((await wa.next<Update>('u')).data.locationUpdated.point.latitude).toBe(4);
    // Bob's own sentinel after Alice's point: Bob never saw Alice's.
    await record(bob, sb, 5);
    expect((await wb.next<Update>('u')).data.locationUpdated.point.latitude).toBe(5);
    expect(wOther.pending('u')).toEqual([]);
    await Promise.all([wa.close(), wb.close(), wAdmin.close(), wOther.close()]);
  });

  it("a subscription to another tenant's or another member's session is NOT_FOUND; to one's own works", async () => {
    const sa = await startSession(alice);
    const wOther = await open(adminB);
    await wOther.acked();
    wOther.subscribe('x', UPDATES, { s: sa });
    expect((await wOther.error('x'))[0]?.extensions?.['code']).toBe('NOT_FOUND');
    const wb = await open(bob);
    await wb.acked();
    wb.subscribe('x', UPDATES, { s: sa });
    expect((await wb.error('x'))[0]?.extensions?.['code']).toBe('NOT_FOUND');
    wb.subscribe('bad', UPDATES, { s: 'not-a-uuid' });
    expect((await wb.error('bad'))[0]?.extensions?.['code']).toBe('NOT_FOUND');
    const wa = await open(alice);
    await wa.acked();
    await subscribeAll([[wa, 'own', UPDATES, { s: sa }]]);
    const other = await startSession(alice);
    await record(alice, other, 9); // another of Alice's sessions: filtered out by sessionId
    await record(alice, sa, 10);
    expect((await wa.next<Update>('own')).data.locationUpdated.point.latitude).toBe(10);
    await Promise.all([wOther.close(), wb.close(), wa.close()]);
  });

  it('sessionEvents: STARTED and ENDED with federated session fields, tenant-scoped', async () => {
    const w = await open(adminA);
    const wOther = await open(adminB);
    await Promise.all([w.acked(), wOther.acked()]);
    const Q = 'subscription { sessionEvents { type at session { id status user { email } } } }';
    await subscribeAll([
      [w, 'e', Q],
      [wOther, 'e', Q],
    ]);
    const s = await startSession(alice);
    await as(alice, 'mutation($id: ID!) { stopLocationSession(id: $id) { id } }', { id: s });
    type Ev = { sessionEvents: { type: string; session: { id: string; user: { email: string } } } };
    const e1 = (await w.next<Ev>('e')).data.sessionEvents;
    const e2 = (await w.next<Ev>('e')).data.sessionEvents;
    expect([e1.type, e2.type]).toEqual(['STARTED', 'ENDED']);
    expect(e1.session).toMatchObject({ id: s, user: { email: alice.email } });
    const sentinel = await startSession(adminB);
    expect((await wOther.next<Ev>('e')).data.sessionEvents.session.id).toBe(sentinel);
    await Promise.all([w.close(), wOther.close()]);
  });
});

describe('connections and limits', () => {
  it('refuses a socket without or with a bad token (4401)', async () => {
    const none = await open(null);
    expect(await none.closed).toMatchObject({ code: 4401 });
    const bad = await LiveSocket.open(stack.routerUrl, 'Bearer not-a-token');
    live.sockets.push(bad);
    expect(await bad.closed).toMatchObject({ code: 4401 });
  });

  it('a burst of identical subscriptions (dashboards reconnecting) costs one admission check', async () => {
    const before = stack.subscriptions()!.stats();
    const sockets = await Promise.all(Array.from({ length: 4 }, () => open(adminA)));
    await Promise.all(sockets.map((w) => w.acked()));
    // A selection no other test uses: its group does not exist yet.
    const Q = 'subscription { locationUpdated { point { id accuracy } session { id status } } }';
    await subscribeAll(sockets.map((w) => [w, 'burst', Q] as [LiveSocket, string, string]));
    const s = await startSession(alice);
    await record(alice, s, 11);
    for (const w of sockets) expect((await w.next<Update>('burst')).data.locationUpdated.point.id).toBeTruthy();
    const after = stack.subscriptions()!.stats();
    expect(after.admissions - before.admissions).toBe(1);
    expect(after.groups - before.groups).toBe(1);
    // Another tenant's identical subscription is its own scope: checked on its own, never joined.
    const other = await open(adminB);
    await other.acked();
    await subscribeAll([[other, 'burst', Q]]);
    expect(stack.subscriptions()!.stats().admissions - after.admissions).toBe(1);
    await Promise.all([...sockets, other].map((w) => w.close()));
  });

  it('identical subscriptions in one scope share one upstream source', async () => {
    const before = stack.subscriptions()!.stats().groups;
    const [w1, w2, w3] = await Promise.all([open(adminA), open(adminA), open(alice)]);
    await Promise.all([w1.acked(), w2.acked(), w3.acked()]);
    const Q = 'subscription { locationUpdated { point { id latitude } } }';
    // w3 is a MEMBER: another scope, its own source.
    await subscribeAll([
      [w1, 'a', Q],
      [w2, 'a', Q],
      [w3, 'a', Q],
    ]);
    const s = await startSession(alice);
    await record(alice, s, 7);
    for (const w of [w1, w2, w3]) expect((await w.next<Update>('a')).data.locationUpdated.point.latitude).toBe(7);
    expect(stack.subscriptions()!.stats().groups - before).toBe(2);
    await Promise.all([w1.close(), w2.close(), w3.close()]);
  });

  it('limits subscriptions per connection (RATE_LIMITED beyond it)', async () => {
    const w = await open(adminA);
    await w.acked();
    for (let i = 0; i < 5; i++) w.subscribe(`s${i}`, 'subscription { sessionEvents { type } }');
    w.subscribe('s5', 'subscription { sessionEvents { type } }');
    expect((await w.error('s5'))[0]?.extensions?.['code']).toBe('RATE_LIMITED');
    await w.close();
  });

  it('limits subscriptions per tenant (per replica); other tenants are unaffected', async () => {
    const limited = await startRouterReplica(stack, {
      pubsub: stack.pubsub,
      authenticator: stack.routerIdentity!.authenticator,
      limits: { perTenant: 2 },
    });
    try {
      const [w1, w2, wOther] = [
        await open(adminA, limited.url),
        await open(alice, limited.url),
        await open(adminB, limited.url),
      ];
      await Promise.all([w1.acked(), w2.acked(), wOther.acked()]);
      const Q = 'subscription { sessionEvents { type } }';
      const live = () => limited.engine()!.stats().subscriptions;
      w1.subscribe('a', Q);
      w2.subscribe('a', Q);
      await waitFor(() => live() === 2, { what: 'two subscriptions' });
      w2.subscribe('b', Q);
      expect((await w2.error('b'))[0]?.extensions?.['code']).toBe('RATE_LIMITED');
      wOther.subscribe('a', Q);
      await waitFor(() => live() === 3, { what: "the other tenant's subscription" });
      await Promise.all([w1.close(), w2.close(), wOther.close()]);
    } finally {
      await limited.stop();
    }
  });

  it('refuses an operation over the router limits when subscribing, not silently per event', async () => {
    const w = await open(adminA);
    await w.acked();
    const tooWide = Array.from({ length: 40 }, (_, i) => `a${i}: latitude`).join(' ');
    w.subscribe('wide', `subscription { locationUpdated { point { ${tooWide} } } }`);
    expect((await w.error('wide'))[0]?.extensions?.['code']).toBe('OPERATION_LIMIT_EXCEEDED');
    await w.close();
  });

  it('refuses queries and mutations over the socket, and unknown fields', async () => {
    const w = await open(adminA);
    await w.acked();
    w.subscribe('q', '{ myTenant { id } }');
    expect((await w.error('q'))[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    w.subscribe('v', 'subscription { nope }');
    expect(await w.error('v')).toEqual([
      expect.objectContaining({
        message: 'Cannot query field "nope" on type "Subscription".',
        extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
      }),
    ]);
    w.subscribe('p', 'subscription {');
    expect((await w.error('p')).map((e) => e.extensions?.['code'])).toEqual(['GRAPHQL_PARSE_FAILED']);
    await w.close();
  });
});

describe('slow consumers', () => {
  it('drops a consumer that stops reading, with a clear close reason, while others keep receiving', async () => {
    // A wide payload (~3 kB: 25 aliases of a 128-character deviceId) fills the socket buffers quickly.
    const wide = Array.from({ length: 25 }, (_, i) => `d${i}: deviceId`).join(' ');
    const Q = `subscription($s: ID) { locationUpdated(sessionId: $s) { point { id } session { ${wide} } } }`;
    const s = (
      await as<{ startLocationSession: { id: string } }>(
        alice,
        'mutation($d: String) { startLocationSession(input: { deviceId: $d }) { id } }',
        {
          d: 'd'.repeat(128),
        },
      )
    ).startLocationSession.id;
    const slow = await open(alice);
    const fine = await open(adminA);
    await Promise.all([slow.acked(), fine.acked()]);
    await subscribeAll([
      [slow, 'x', Q, { s }],
      [fine, 'x', 'subscription($s: ID) { locationUpdated(sessionId: $s) { point { latitude } } }', { s }],
    ]);
    // Make sure both are live before the slow one stops reading.
    await record(alice, s, 0);
    await slow.next('x');
    await fine.next('x');
    const live = () => stack.subscriptions()!.stats().subscriptions;
    const before = live();
    slow.pauseReading();
    let sent = 1;
    let received = 1;
    const deadline = Date.now() + 60_000;
    // Record until the router drops the slow subscriber (the kernel's socket buffers, then the router's unsent bytes, fill up).
    while (live() >= before && Date.now() < deadline && sent < 20_000) {
      const locations = Array.from({ length: 500 }, (_, i) => ({
        latitude: (i % 90) + 0.5,
        longitude: 1,
        recordedAt: at(),
      }));
      await as(
        alice,
        'mutation($s: ID!, $l: [LocationInput!]!) { recordLocations(sessionId: $s, locations: $l) { accepted } }',
        { s, l: locations },
      );
      sent += 500;
      // The healthy consumer keeps up with every point.
      while (received < sent) {
        await fine.next('x', 30_000);
        received++;
      }
    }
    expect(live()).toBe(before - 1);
    // Once it reads again, the slow client finds the reason after what it had been sent.
    slow.resumeReading();
    const c = await slow.closed;
    expect(c).toEqual({ code: 4008, reason: 'Slow consumer: too many unsent results' });
    // The healthy subscriber is still served after the slow one was dropped.
    await record(alice, s, 89);
    expect((await fine.next<Update>('x')).data.locationUpdated.point.latitude).toBe(89);
    await fine.close();
  });
});

describe('sockets close when identity changes', () => {
  let replica: Replica | undefined;
  afterAll(async () => {
    await replica?.stop();
  });

  it('closes a socket when its token expires (short-lived token)', async () => {
    const real = stack.routerIdentity!.authenticator;
    // Same verification; the token is made to expire 1 s after the socket authenticates.
    replica = await startRouterReplica(stack, {
      pubsub: stack.pubsub,
      authenticator: {
        async authenticate(a) {
          const r = await real.authenticate(a);
          return r && { ...r, expiresAt: Math.floor(Date.now() / 1000) + 1 };
        },
      },
    });
    const w = await open(alice, replica.url);
    await w.acked();
    w.subscribe('x', 'subscription { sessionEvents { type } }');
    expect(await w.closed).toEqual({ code: 4401, reason: 'Token expired' });
  });

  it('closes with a retryable 1013 (not 4401) when the router cannot check a token right now', async () => {
    const flaky = await startRouterReplica(stack, {
      pubsub: stack.pubsub,
      authenticator: {
        authenticate: () => Promise.reject(new Error('membership store unavailable')),
      },
    });
    try {
      const w = await open(alice, flaky.url);
      // graphql-ws clients retry 1013 (Try Again Later); 4401 would make them drop the token.
      expect(await w.closed).toEqual({ code: 1013, reason: 'Try again later' });
    } finally {
      await flaky.stop();
    }
  });

  it('closes on logout', async () => {
    const u = await createUserWithToken(stack, { tenantId: tA.id, role: 'MEMBER' });
    const w = await open(u);
    await w.acked();
    w.subscribe('x', 'subscription { sessionEvents { type } }');
    await as(u, 'mutation { logout }');
    expect(await w.closed).toEqual({ code: 4401, reason: 'Token revoked' });
  });

  it('closes when the user is removed', async () => {
    const u = await createUserWithToken(stack, { tenantId: tA.id, role: 'MEMBER' });
    const w = await open(u);
    await w.acked();
    w.subscribe('x', 'subscription { sessionEvents { type } }');
    await as(adminA, 'mutation($id: ID!) { removeUser(userId: $id) }', { id: u.userId });
    expect(await w.closed).toEqual({ code: 4401, reason: 'User removed' });
  });

  it('closes when the tenant is suspended', async () => {
    const t = await createTestTenant(stack.db, 'susp');
    const [u, pa] = await Promise.all([
      createUserWithToken(stack, { tenantId: t.id, role: 'TENANT_ADMIN' }),
      createUserWithToken(stack, { role: 'PLATFORM_ADMIN' }),
    ]);
    const w = await open(u);
    await w.acked();
    w.subscribe('x', 'subscription { sessionEvents { type } }');
    await as(pa, 'mutation($id: ID!) { suspendTenant(id: $id) { status } }', { id: t.id });
    expect(await w.closed).toEqual({ code: 4401, reason: 'Tenant suspended' });
  });
});

describe('close codes', () => {
  it('4403 for a caller without a tenant (a platform admin): subscriptions need a tenant user', async () => {
    const platform = await createUserWithToken(stack, { role: 'PLATFORM_ADMIN' });
    const w = await open(platform);
    expect(await w.closed).toEqual({ code: 4403, reason: 'Forbidden: subscriptions need a tenant user' });
  });

  it("4401 'Membership changed' when the user's role changes while subscribed; other sockets stay open", async () => {
    const carol = await createUserWithToken(stack, { tenantId: tA.id, role: 'MEMBER' });
    const [w, bystander] = [await open(carol), await open(bob)];
    await Promise.all([w.acked(), bystander.acked()]);
    await subscribeAll([
      [w, 'c', 'subscription { sessionEvents { type } }'],
      [bystander, 'b', 'subscription { sessionEvents { type } }'],
    ]);
    const changed = await gql(
      stack.routerUrl,
      'mutation($u: ID!) { changeUserRole(userId: $u, role: TENANT_ADMIN) { id role } }',
      { u: carol.userId },
      bearer(adminA),
    );
    expect(changed.errors).toBeUndefined();
    expect(await w.closed).toEqual({ code: 4401, reason: 'Membership changed' });
    // The bystander still receives: the next session event reaches it.
    await startSession(bob);
    expect(await bystander.next('b')).toEqual({ data: { sessionEvents: { type: 'STARTED' } } });
  });

  it('1001 when the router stops, for every open socket', async () => {
    const replica = await startRouterReplica(stack, {
      pubsub: stack.pubsub,
      authenticator: stack.routerIdentity!.authenticator,
    });
    const [w1, w2] = [await open(alice, replica.url), await open(adminA, replica.url)];
    await Promise.all([w1.acked(), w2.acked()]);
    w1.subscribe('x', 'subscription { sessionEvents { type } }');
    const stopping = replica.stop();
    expect(await Promise.all([w1.closed, w2.closed])).toEqual([
      { code: 1001, reason: 'Router shutting down' },
      { code: 1001, reason: 'Router shutting down' },
    ]);
    await stopping;
  });
});
