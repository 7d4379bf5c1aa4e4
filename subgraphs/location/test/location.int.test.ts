/**
 * The location subgraph on a real server and real Postgres (RLS on), called with router-signed
 * contexts: validation, all-or-nothing batches, retry safety, outbox rows, visibility, live events.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Membership } from '@lt/context';
import { createDb, withTenant, type Db } from '@lt/db';
import { createLogger } from '@lt/logger';
import { LIVE_PAYLOAD_MAX_POINTS, parseLiveEvent, type LiveEvent } from '@lt/events';
import { createMemoryPubSub, tenantChannel } from '@lt/pubsub';
import { Cleanup, createTestTenant, testEnv, waitFor } from '@lt/testing';
import { createLocationSubgraph } from '../src/createLocationSubgraph';
import { createUser, firstError, subgraphClient } from './fixtures';

const cleanup = new Cleanup();
let db: Db;
let call: ReturnType<typeof subgraphClient>;
const pubsub = createMemoryPubSub();
let t1: string;
let t2: string;
let admin: Membership;
let alice: Membership;
let bob: Membership;
let other: Membership;

beforeAll(async () => {
  const env = testEnv();
  db = createDb({ url: env.databaseUrl, max: 4 });
  cleanup.add(() => db.$disconnect());
  const server = createLocationSubgraph({
    db,
    log: createLogger({ level: 'silent' }),
    contextSecret: env.contextSecret,
    pubsub,
  });
  const port = await server.start(0);
  cleanup.add(() => server.stop());
  call = subgraphClient(`http://127.0.0.1:${port}/graphql`, env.contextSecret);
  t1 = (await createTestTenant(db, 'loc')).id;
  t2 = (await createTestTenant(db, 'loc')).id;
  admin = await createUser(db, t1, 'TENANT_ADMIN');
  alice = await createUser(db, t1, 'MEMBER');
  bob = await createUser(db, t1, 'MEMBER');
  other = await createUser(db, t2, 'TENANT_ADMIN');
});
afterAll(() => cleanup.run());

const START =
  'mutation($d: String) { startLocationSession(input: { deviceId: $d }) { id status startedAt pointCount } }';
const RECORD = `mutation($s: ID!, $l: LocationInput!) { recordLocation(sessionId: $s, location: $l) { id latitude recordedAt } }`;
const BATCH = `mutation($s: ID!, $ls: [LocationInput!]!) {
  recordLocations(sessionId: $s, locations: $ls) { accepted duplicates session { id pointCount lastPoint { id latitude recordedAt } } }
}`;
const GET = `query($id: ID!) { locationSession(id: $id) { id status pointCount lastPoint { id latitude } user { id } tenant { id } } }`;

async function start(m: Membership, deviceId?: string): Promise<string> {
  const r = await call<{ startLocationSession: { id: string } }>(m, START, { d: deviceId ?? null });
  expect(r.errors).toBeUndefined();
  return r.data!.startLocationSession.id;
}

// Points must lie between their session's start and now + 5 min: start the clock 1 min ahead.
let tick = Date.now() + 60_000;
/** A valid point with a recordedAt no other point of the test run uses. */
const point = (over: Record<string, unknown> = {}) => ({
  latitude: 52.52,
  longitude: 13.405,
  recordedAt: new Date((tick += 7)).toISOString(),
  ...over,
});

const outboxCount = (tenantId: string, sessionId: string, type: string) =>
  withTenant(db, tenantId, (tx) => tx.outbox.count({ where: { key: `${tenantId}:${sessionId}`, type } }));
const pointCount = (tenantId: string, sessionId: string) =>
  withTenant(db, tenantId, (tx) => tx.locationPoint.count({ where: { sessionId } }));

describe('validation names the offending field', () => {
  let session: string;
  beforeAll(async () => {
    session = await start(alice);
  });

  const cases: [string, Record<string, unknown>, string][] = [
    ['latitude > 90', { latitude: 90.0001 }, 'latitude'],
    ['latitude < -90', { latitude: -91 }, 'latitude'],
    ['longitude > 180', { longitude: 180.5 }, 'longitude'],
    ['longitude < -180', { longitude: -180.01 }, 'longitude'],
    ['negative accuracy', { accuracy: -1 }, 'accuracy'],
    ['negative speed', { speed: -0.1 }, 'speed'],
    ['heading 360', { heading: 360 }, 'heading'],
    ['negative heading', { heading: -1 }, 'heading'],
    ['recordedAt > 5 min ahead', { recordedAt: new Date(Date.now() + 6 * 60_000).toISOString() }, 'recordedAt'],
    [
      'recordedAt before the session started',
      { recordedAt: new Date(Date.now() - 3_600_000).toISOString() },
      'recordedAt',
    ],
    ['empty idempotencyKey', { idempotencyKey: '' }, 'idempotencyKey'],
    ['idempotencyKey over 128 chars', { idempotencyKey: 'k'.repeat(129) }, 'idempotencyKey'],
  ];
  for (const [name, over, field] of cases) {
    it(`recordLocation: ${name} → BAD_USER_INPUT location.${field}`, async () => {
      const r = await call(alice, RECORD, { s: session, l: point(over) });
      expect(firstError(r)).toMatchObject({ code: 'BAD_USER_INPUT', field: `location.${field}` });
      expect(await pointCount(t1, session)).toBe(0);
    });
  }

  it('boundaries are accepted: ±90, ±180, heading 0, speed/accuracy 0, recordedAt 4 min ahead', async () => {
    for (const over of [
      { latitude: 90, longitude: 180, heading: 0, speed: 0, accuracy: 0 },
      { latitude: -90, longitude: -180, heading: 359.99 },
      { recordedAt: new Date(Date.now() + 4 * 60_000).toISOString() },
    ]) {
      const r = await call(alice, RECORD, { s: session, l: point(over) });
      expect(r.errors).toBeUndefined();
    }
  });

  it('NaN / Infinity cannot even reach the resolver (Float refuses them)', async () => {
    const r = await call(alice, RECORD, { s: session, l: point({ latitude: 'NaN' }) });
    expect(r.errors?.length).toBeGreaterThan(0);
    const r2 = await call(alice, RECORD, { s: session, l: point({ latitude: 'Infinity' }) });
    expect(r2.errors?.length).toBeGreaterThan(0);
  });

  it('a batch with one bad point is refused whole, naming its index; nothing is written', async () => {
    const s = await start(alice);
    const ls = [point(), point(), point(), point({ latitude: 123 }), point()];
    const r = await call(alice, BATCH, { s, ls });
    expect(firstError(r)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'locations[3].latitude' });
    const before = await call(alice, BATCH, {
      s,
      ls: [point(), point({ recordedAt: new Date(Date.now() - 7_200_000).toISOString() })],
    });
    expect(firstError(before)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'locations[1].recordedAt' });
    expect(await pointCount(t1, s)).toBe(0);
    expect(await outboxCount(t1, s, 'location.recorded.v1')).toBe(0);
  });

  it('more than 1,000 points → BAD_USER_INPUT locations; 1,000 is fine', async () => {
    const s = await start(alice);
    const base = Date.now() + 30_000;
    const mk = (n: number, off: number) =>
      Array.from({ length: n }, (_, i) => ({
        latitude: 1,
        longitude: 2,
        recordedAt: new Date(base + off + i).toISOString(),
      }));
    const tooMany = await call(alice, BATCH, { s, ls: mk(1_001, 0) });
    expect(firstError(tooMany)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'locations' });
    const ok = await call<{ recordLocations: { accepted: number; session: { pointCount: number } } }>(alice, BATCH, {
      s,
      ls: mk(1_000, 0),
    });
    expect(ok.errors).toBeUndefined();
    expect(ok.data!.recordLocations).toMatchObject({ accepted: 1_000, session: { pointCount: 1_000 } });
    expect(await outboxCount(t1, s, 'location.recorded.v1')).toBe(1_000);
  });

  it('deviceId over 128 characters → BAD_USER_INPUT input.deviceId', async () => {
    const r = await call(alice, START, { d: 'd'.repeat(129) });
    expect(firstError(r)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.deviceId' });
  });
});

describe('sessions, points and events', () => {
  it('start → record → stop writes data and outbox events in one transaction each', async () => {
    const s = await start(alice, 'phone-1');
    expect(await outboxCount(t1, s, 'session.started.v1')).toBe(1);
    const p1 = point({ latitude: 10 });
    const p2 = point({ latitude: 20 });
    const r = await call<{
      recordLocations: { accepted: number; session: { pointCount: number; lastPoint: { latitude: number } } };
    }>(
      alice,
      BATCH,
      { s, ls: [p2, p1] }, // out of order: lastPoint is the newest recordedAt, not the last sent
    );
    expect(r.data!.recordLocations).toMatchObject({
      accepted: 2,
      session: { pointCount: 2, lastPoint: { latitude: 20 } },
    });
    expect(await outboxCount(t1, s, 'location.recorded.v1')).toBe(2);
    const row = await withTenant(db, t1, (tx) =>
      tx.outbox.findFirst({ where: { key: `${t1}:${s}`, type: 'location.recorded.v1' } }),
    );
    expect(row).toMatchObject({ topic: 'location-updates', tenantId: t1 });
    expect(row!.payload).toMatchObject({ sessionId: s, userId: alice.userId });
    expect(Object.keys(row!.payload as object).sort()).toEqual([
      'accuracy',
      'altitude',
      'heading',
      'latitude',
      'longitude',
      'pointId',
      'receivedAt',
      'recordedAt',
      'sessionId',
      'speed',
      'userId',
    ]);
    const p = row!.payload as { recordedAt: string; pointId: string };
    expect([p1.recordedAt, p2.recordedAt]).toContain(p.recordedAt);

    const stop = await call<{ stopLocationSession: { status: string } }>(
      alice,
      'mutation($id: ID!) { stopLocationSession(id: $id) { status endedAt } }',
      { id: s },
    );
    expect(stop.data!.stopLocationSession.status).toBe('ENDED');
    // Stopping again is a harmless retry: same answer, no second event.
    const again = await call(alice, 'mutation($id: ID!) { stopLocationSession(id: $id) { status } }', { id: s });
    expect(again.errors).toBeUndefined();
    expect(await outboxCount(t1, s, 'session.ended.v1')).toBe(1);
    const sessionRow = await withTenant(db, t1, (tx) =>
      tx.outbox.findFirst({ where: { key: `${t1}:${s}`, type: 'session.ended.v1' } }),
    );
    expect(sessionRow!.topic).toBe('session-events');

    const late = await call(alice, RECORD, { s, l: point() });
    expect(firstError(late)).toMatchObject({ code: 'CONFLICT' });
    const lateBatch = await call(alice, BATCH, { s, ls: [point()] });
    expect(firstError(lateBatch)).toMatchObject({ code: 'CONFLICT' });
    expect(await pointCount(t1, s)).toBe(2);
  });

  it('retries never duplicate: same recordedAt, same idempotency key, a re-sent batch', async () => {
    const s = await start(alice);
    const p = point();
    const a = await call<{ recordLocation: { id: string } }>(alice, RECORD, { s, l: p });
    const b = await call<{ recordLocation: { id: string } }>(alice, RECORD, { s, l: p });
    expect(b.data!.recordLocation.id).toBe(a.data!.recordLocation.id);

    const keyed = point({ idempotencyKey: 'req-1' });
    const k1 = await call<{ recordLocation: { id: string } }>(alice, RECORD, { s, l: keyed });
    // Same key, clock re-read on the retry (different recordedAt): still the first point.
    const k2 = await call<{ recordLocation: { id: string } }>(alice, RECORD, {
      s,
      l: { ...keyed, recordedAt: point().recordedAt },
    });
    expect(k2.data!.recordLocation.id).toBe(k1.data!.recordLocation.id);

    const batch = [point(), point(), point()];
    const first = await call<{ recordLocations: { accepted: number; duplicates: number } }>(alice, BATCH, {
      s,
      ls: batch,
    });
    expect(first.data!.recordLocations).toMatchObject({ accepted: 3, duplicates: 0 });
    const retry = await call<{
      recordLocations: { accepted: number; duplicates: number; session: { pointCount: number } };
    }>(alice, BATCH, { s, ls: [...batch, point(), batch[0]] });
    expect(retry.data!.recordLocations).toMatchObject({ accepted: 1, duplicates: 4, session: { pointCount: 6 } });
    expect(await pointCount(t1, s)).toBe(6);
    expect(await outboxCount(t1, s, 'location.recorded.v1')).toBe(6);
  });

  it('points are newest first and paginate with cursors', async () => {
    const s = await start(alice);
    const ls = [point({ latitude: 1 }), point({ latitude: 2 }), point({ latitude: 3 })];
    await call(alice, BATCH, { s, ls });
    const Q = `query($id: ID!, $after: String) { locationSession(id: $id) { points(first: 2, after: $after) { edges { node { latitude } } pageInfo { hasNextPage endCursor } } } }`;
    type P = {
      locationSession: {
        points: { edges: { node: { latitude: number } }[]; pageInfo: { hasNextPage: boolean; endCursor: string } };
      };
    };
    const p1 = await call<P>(alice, Q, { id: s });
    expect(p1.data!.locationSession.points.edges.map((e) => e.node.latitude)).toEqual([3, 2]);
    expect(p1.data!.locationSession.points.pageInfo.hasNextPage).toBe(true);
    const p2 = await call<P>(alice, Q, { id: s, after: p1.data!.locationSession.points.pageInfo.endCursor });
    expect(p2.data!.locationSession.points.edges.map((e) => e.node.latitude)).toEqual([1]);
    expect(p2.data!.locationSession.points.pageInfo.hasNextPage).toBe(false);
  });

  it('publishes committed points and session events on the tenant live channel only', async () => {
    const got: LiveEvent[] = [];
    const otherTenant: string[] = [];
    const off1 = await pubsub.subscribe(tenantChannel(t1, 'live'), (m) => got.push(parseLiveEvent(m)!));
    const off2 = await pubsub.subscribe(tenantChannel(t2, 'live'), (m) => otherTenant.push(m));
    try {
      const s = await start(bob);
      await call(bob, BATCH, { s, ls: [point(), point()] });
      await call(bob, BATCH, { s, ls: [point({ latitude: 500 })] }); // refused: no event
      await call(bob, 'mutation($id: ID!) { stopLocationSession(id: $id) { id } }', { id: s });
      // The channel keeps order: once ENDED arrived, everything the calls above published has too.
      await waitFor(() => got.some((e) => e.kind === 'session' && e.type === 'ENDED'), { what: 'ENDED' });
      expect(
        got.map((e) => (e.kind === 'session' ? e.type : e.kind === 'location' ? e.points.length : e.kind)),
      ).toEqual(['STARTED', 2, 'ENDED']);
      expect(got.every((e) => e.tenantId === t1 && e.sessionId === s && e.userId === bob.userId)).toBe(true);
      expect(otherTenant).toEqual([]);
    } finally {
      await off1();
      await off2();
    }
  });
});

describe('live event payload (served by the router without a re-read)', () => {
  const LIVE_ALL = `query($p: [ID!]!) { liveLocationUpdates(pointIds: $p) {
    session { id status deviceId startedAt endedAt pointCount user { id } }
    point { id latitude longitude accuracy altitude speed heading recordedAt receivedAt } } }`;
  type Live = { liveLocationUpdates: { session: Record<string, unknown>; point: Record<string, unknown> }[] };

  async function eventsOf(run: () => Promise<unknown>): Promise<Extract<LiveEvent, { kind: 'location' }>[]> {
    const got: LiveEvent[] = [];
    const off = await pubsub.subscribe(tenantChannel(t1, 'live'), (m) => got.push(parseLiveEvent(m)!));
    try {
      await run();
      // A marker published after run() on the same (ordered) channel: when it arrives, every event
      // run() caused has arrived too, so "nothing published" is a fact, not a guess.
      const marker = await start(admin, 'marker');
      await waitFor(() => got.some((e) => e.kind === 'session' && e.sessionId === marker), { what: 'the marker' });
    } finally {
      await off();
    }
    return got.filter((e): e is Extract<LiveEvent, { kind: 'location' }> => e.kind === 'location');
  }

  it('a small batch carries exactly what liveLocationUpdates re-reads right after the commit', async () => {
    const s = await start(alice, 'dev-payload');
    // Re-read right after each commit (pointCount is the count after that commit).
    const sameAsReRead = async (e: Extract<LiveEvent, { kind: 'location' }> | undefined) => {
      expect(e?.payload).toBeDefined();
      const { userId, ...session } = e!.payload!.session;
      expect(userId).toBe(alice.userId);
      const reRead = await call<Live>(alice, LIVE_ALL, { p: e!.points.map((p) => p.id) });
      expect(reRead.errors).toBeUndefined();
      expect(reRead.data!.liveLocationUpdates).toEqual(
        e!.payload!.points.map((point) => ({ session: { ...session, user: { id: userId } }, point })),
      );
      return e!;
    };
    const single = await sameAsReRead(
      (await eventsOf(() => call(alice, RECORD, { s, l: point({ accuracy: 4.5, heading: 90 }) })))[0],
    );
    const batch = await sameAsReRead(
      (
        await eventsOf(() => call(alice, BATCH, { s, ls: [point({ speed: 2 }), point({ altitude: 30.25 }), point()] }))
      )[0],
    );
    expect(single.payload!.session.pointCount).toBe(1);
    expect(batch.payload!.session).toMatchObject({ pointCount: 4, deviceId: 'dev-payload', status: 'ACTIVE' });
  });

  it('a batch over LIVE_PAYLOAD_MAX_POINTS carries ids only; retries publish nothing new', async () => {
    const s = await start(bob);
    const big = Array.from({ length: LIVE_PAYLOAD_MAX_POINTS + 1 }, () => point());
    const [e] = await eventsOf(() => call(bob, BATCH, { s, ls: big }));
    expect(e!.points).toHaveLength(LIVE_PAYLOAD_MAX_POINTS + 1);
    expect(e!.payload).toBeUndefined();
    const retried = await eventsOf(() => call(bob, BATCH, { s, ls: big.slice(0, 2) }));
    expect(retried).toEqual([]);
  });
});

describe('visibility: MEMBER own, TENANT_ADMIN tenant, other tenant NOT_FOUND', () => {
  let aliceSession: string;
  let bobSession: string;
  let alicePoint: string;
  const LIVE = 'query($p: [ID!]!) { liveLocationUpdates(pointIds: $p) { point { id } } }';
  beforeAll(async () => {
    aliceSession = await start(alice);
    bobSession = await start(bob);
    const r = await call<{ recordLocation: { id: string } }>(alice, RECORD, { s: aliceSession, l: point() });
    alicePoint = r.data!.recordLocation.id;
  });

  it('a MEMBER reads its own session with entity references for user and tenant', async () => {
    const r = await call<{ locationSession: { user: { id: string }; tenant: { id: string }; pointCount: number } }>(
      alice,
      GET,
      { id: aliceSession },
    );
    expect(r.data!.locationSession).toMatchObject({ user: { id: alice.userId }, tenant: { id: t1 }, pointCount: 1 });
  });

  it("a MEMBER gets NOT_FOUND for another member's session, on reads and writes", async () => {
    for (const [q, v] of [
      [GET, { id: bobSession }],
      [RECORD, { s: bobSession, l: point() }],
      [BATCH, { s: bobSession, ls: [point()] }],
      ['mutation($id: ID!) { stopLocationSession(id: $id) { id } }', { id: bobSession }],
      [
        'query($s: ID!) { liveSessionEvent(sessionId: $s, type: STARTED, at: "2026-01-01T00:00:00Z") { type } }',
        { s: bobSession },
      ],
    ] as const) {
      expect(firstError(await call(alice, q, v))).toMatchObject({ code: 'NOT_FOUND' });
    }
    expect(await pointCount(t1, bobSession)).toBe(0);
  });

  it('a TENANT_ADMIN reads and stops any session of its tenant', async () => {
    const r = await call(admin, GET, { id: bobSession });
    expect(r.errors).toBeUndefined();
    const list = await call<{ locationSessions: { edges: { node: { id: string } }[] } }>(
      admin,
      '{ locationSessions(first: 100) { edges { node { id } } } }',
    );
    const ids = list.data!.locationSessions.edges.map((e) => e.node.id);
    expect(ids).toEqual(expect.arrayContaining([aliceSession, bobSession]));
  });

  it('MEMBER lists only own sessions, even when asking for another userId', async () => {
    const own = await call<{ locationSessions: { edges: { node: { id: string; user: { id: string } } }[] } }>(
      alice,
      '{ locationSessions(first: 100) { edges { node { id user { id } } } } }',
    );
    const users = new Set(own.data!.locationSessions.edges.map((e) => e.node.user.id));
    expect([...users]).toEqual([alice.userId]);
    const asked = await call<{ locationSessions: { edges: unknown[] } }>(
      alice,
      'query($u: ID) { locationSessions(userId: $u) { edges { cursor } } }',
      { u: bob.userId },
    );
    expect(asked.data!.locationSessions.edges).toEqual([]);
  });

  it('another tenant gets NOT_FOUND for every id and an empty list', async () => {
    for (const [q, v] of [
      [GET, { id: aliceSession }],
      [RECORD, { s: aliceSession, l: point() }],
      [BATCH, { s: aliceSession, ls: [point()] }],
      ['mutation($id: ID!) { stopLocationSession(id: $id) { id } }', { id: aliceSession }],
    ] as const) {
      expect(firstError(await call(other, q, v))).toMatchObject({ code: 'NOT_FOUND' });
    }
    // Live re-reads: another tenant's point ids are NOT_FOUND (like ids that exist nowhere); another
    // member of the same tenant gets the list without them (the live feed filters, it does not fail).
    const own = await call<{ liveLocationUpdates: { point: { id: string } }[] }>(alice, LIVE, { p: [alicePoint] });
    expect(own.data!.liveLocationUpdates.map((u) => u.point.id)).toEqual([alicePoint]);
    for (const p of [[alicePoint], ['00000000-0000-4000-8000-000000000000'], ['not-a-uuid'], []]) {
      const crossing = await call<{ liveLocationUpdates: unknown[] }>(other, LIVE, { p });
      if (p.length === 0) expect(crossing).toEqual({ data: { liveLocationUpdates: [] } });
      else {
        expect(crossing.errors?.map((e) => e.extensions)).toEqual([
          expect.objectContaining({ code: 'NOT_FOUND', field: 'pointIds' }),
        ]);
        expect(crossing.data ?? null).toBeNull();
      }
    }
    const sameTenant = await call<{ liveLocationUpdates: unknown[] }>(bob, LIVE, { p: [alicePoint] });
    expect(sameTenant).toEqual({ data: { liveLocationUpdates: [] } });
    const list = await call<{ locationSessions: { edges: { node: { id: string } }[] } }>(
      other,
      '{ locationSessions(first: 100) { edges { node { id } } } }',
    );
    expect(list.data!.locationSessions.edges.map((e) => e.node.id)).not.toContain(aliceSession);
    expect(firstError(await call(other, GET, { id: 'not-a-uuid' }))).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('_entities: a LocationSession reference of another tenant (or member) resolves to null', async () => {
    const ENTITIES = `query($r: [_Any!]!) { _entities(representations: $r) { ... on LocationSession { id deviceId } } }`;
    const r = [
      { __typename: 'LocationSession', id: aliceSession },
      { __typename: 'LocationSession', id: bobSession },
      { __typename: 'LocationSession', id: 'not-a-uuid' },
    ];
    const asOwner = await call<{ _entities: unknown[] }>(alice, ENTITIES, { r });
    expect(asOwner.errors).toBeUndefined();
    expect(asOwner.data!._entities).toEqual([{ id: aliceSession, deviceId: null }, null, null]);
    const asOtherTenant = await call<{ _entities: unknown[] }>(other, ENTITIES, { r });
    expect(asOtherTenant.errors).toBeUndefined();
    expect(asOtherTenant.data!._entities).toEqual([null, null, null]);
    // its own admin sees both: the nulls above are isolation, not a broken resolver
    const asAdmin = await call<{ _entities: ({ id: string } | null)[] }>(admin, ENTITIES, { r });
    expect(asAdmin.data!._entities.map((e) => e?.id ?? null)).toEqual([aliceSession, bobSession, null]);
  });

  it('a platform admin (no tenant) is refused', async () => {
    const pa: Membership = {
      userId: alice.userId,
      sub: 'x',
      tenantId: null,
      role: 'PLATFORM_ADMIN',
      tenantStatus: null,
    };
    expect(firstError(await call(pa, GET, { id: aliceSession }))).toMatchObject({ code: 'FORBIDDEN' });
  });
});
