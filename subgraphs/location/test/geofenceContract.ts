/**
 * The geofence contract, run on real Postgres (geofence.int.test.ts) and on the embedded PGlite
 * database (app/test/embedded/geofence.embedded.int.test.ts): one implementation, both
 * databases. Geofences on a real server (RLS on): CRUD and validation, enter/exit/dwell
 * evaluated in the points' transaction (outbox + history), hysteresis, out-of-order and retried
 * points, restart mid-visit, fence changes during a visit, tenant isolation, live events, and a
 * failed transaction that writes neither points nor events.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Membership } from '@lt/context';
import { createDb, withTenant, type Db } from '@lt/db';
import { parseLiveEvent, type LiveEvent } from '@lt/events';
import { createMemoryPubSub, tenantChannel } from '@lt/pubsub';
import { Cleanup, createTestTenant } from '@lt/testing';
import { createTestMembers, createUser, firstError, startLocationServer, type subgraphClient } from './fixtures';

export interface GeofenceContractEnv {
  /** The services role (lt_app). */
  appUrl: string;
  /** The owner role (fault injection). */
  ownerUrl: string;
  contextSecret: string;
}

/** Registers the whole suite; `env` is read in beforeAll. */
export function geofenceContract(env: () => GeofenceContractEnv, o: { concurrentTransactions: boolean }): void {
  const cleanup = new Cleanup();
  let db: Db;
  let call: ReturnType<typeof subgraphClient>;
  /** A second server on the same database: a restarted process / another replica (cold index). */
  let call2: ReturnType<typeof subgraphClient>;
  const pubsub = createMemoryPubSub();
  let t1: string, t2: string;
  let admin: Membership, alice: Membership, bob: Membership, other: Membership;

  const startServer = (maxGeofencesPerTenant?: number) =>
    startLocationServer(cleanup, {
      db,
      contextSecret: env().contextSecret,
      pubsub,
      ...(maxGeofencesPerTenant ? { maxGeofencesPerTenant } : {}),
    });

  // Points lie between their session's start and now + 5 min: the clock starts 1 min ahead, counted
  // from the end of the setup (starting an embedded database can take over a minute on a busy box).
  let tick = Date.now() + 60_000;
  beforeAll(async () => {
    db = createDb({ url: env().appUrl, max: 4 });
    cleanup.add(() => db.$disconnect());
    call = await startServer();
    call2 = await startServer();
    ({ t1, t2, admin, alice, bob, other } = await createTestMembers(db, 'geo'));
    tick = Date.now() + 60_000;
  });
  afterAll(() => cleanup.run());

  const CREATE = `mutation($i: CreateGeofenceInput!) { createGeofence(input: $i) { id name dwellSeconds tags
  shape { type latitude longitude radiusMeters polygon } } }`;
  const UPDATE = `mutation($id: ID!, $i: UpdateGeofenceInput!) { updateGeofence(id: $id, input: $i) { id name
  shape { type radiusMeters } } }`;
  const DELETE = `mutation($id: ID!) { deleteGeofence(id: $id) }`;
  const START = 'mutation { startLocationSession { id } }';
  const BATCH = `mutation($s: ID!, $ls: [LocationInput!]!) { recordLocations(sessionId: $s, locations: $ls) { accepted duplicates } }`;
  const EVENTS = `query($g: ID, $s: ID) { geofenceEvents(geofenceId: $g, sessionId: $s, first: 100) {
  edges { node { id type at geofence { id name } session { id } point { id latitude longitude } } } } }`;
  const INSIDE = `query($id: ID!) { locationSession(id: $id) { geofencesInside { id } } }`;

  async function fence(input: Record<string, unknown>, m: Membership = admin): Promise<string> {
    const r = await call<{ createGeofence: { id: string } }>(m, CREATE, { i: { name: 'f', ...input } });
    expect(r.errors).toBeUndefined();
    return r.data!.createGeofence.id;
  }
  async function start(m: Membership): Promise<string> {
    const r = await call<{ startLocationSession: { id: string } }>(m, START);
    expect(r.errors).toBeUndefined();
    return r.data!.startLocationSession.id;
  }
  const at = (ms: number) => new Date(ms).toISOString();
  const pt = (latitude: number, longitude: number, over: Record<string, unknown> = {}) => ({
    latitude,
    longitude,
    recordedAt: at((tick += 1_000)),
    ...over,
  });
  async function record(m: Membership, s: string, ls: unknown[], c = call) {
    const r = await c<{ recordLocations: { accepted: number; duplicates: number } }>(m, BATCH, { s, ls });
    expect(r.errors).toBeUndefined();
    return r.data!.recordLocations;
  }
  type Ev = { id: string; type: string; geofence: { id: string }; point: { latitude: number } };
  async function events(m: Membership, vars: { g?: string; s?: string }): Promise<Ev[]> {
    const r = await call<{ geofenceEvents: { edges: { node: Ev }[] } }>(m, EVENTS, vars);
    expect(r.errors).toBeUndefined();
    // History is newest first; tests read it oldest first.
    return r.data!.geofenceEvents.edges.map((e) => e.node).reverse();
  }
  const types = (evs: Ev[]) => evs.map((e) => e.type);
  const outboxTypes = (tenantId: string, sessionId: string) =>
    withTenant(db, tenantId, (tx) =>
      tx.outbox.findMany({
        where: { key: `${tenantId}:${sessionId}`, topic: 'geofence-events' },
        orderBy: { seq: 'asc' },
        select: { type: true, id: true, payload: true },
      }),
    );

  // A ~1.1 km circle around a point in Berlin; points inside, on the rim region and far outside.
  const C = { latitude: 52.52, longitude: 13.405 };
  const IN = [52.52, 13.405] as const;
  const OUT = [52.6, 13.405] as const; // ~8.9 km north

  describe('geofence CRUD and validation', () => {
    it('creates, reads, lists by tag, updates and deletes (TENANT_ADMIN); members read', async () => {
      const id = await fence({ name: 'depot', circle: { ...C, radiusMeters: 500 }, dwellSeconds: 60, tags: ['x'] });
      const got = await call<{ geofence: { name: string; shape: { type: string; radiusMeters: number } } }>(
        alice,
        'query($id: ID!) { geofence(id: $id) { name shape { type radiusMeters } } }',
        { id },
      );
      expect(got.data!.geofence).toEqual({ name: 'depot', shape: { type: 'CIRCLE', radiusMeters: 500 } });
      const list = await call<{ geofences: { edges: { node: { id: string } }[] } }>(
        alice,
        'query { geofences(tag: "x", first: 100) { edges { node { id } } } }',
      );
      expect(list.data!.geofences.edges.map((e) => e.node.id)).toContain(id);
      const upd = await call<{ updateGeofence: { name: string; shape: { radiusMeters: number } } }>(admin, UPDATE, {
        id,
        i: { name: 'depot 2', circle: { ...C, radiusMeters: 600 } },
      });
      expect(upd.data!.updateGeofence).toMatchObject({ name: 'depot 2', shape: { radiusMeters: 600 } });
      expect(firstError(await call(alice, DELETE, { id }))['code']).toBe('FORBIDDEN');
      expect((await call<{ deleteGeofence: boolean }>(admin, DELETE, { id })).data!.deleteGeofence).toBe(true);
      expect(firstError(await call(admin, DELETE, { id }))['code']).toBe('NOT_FOUND');
    });

    it('MEMBERs cannot create; other tenants get NOT_FOUND for every id-based operation', async () => {
      expect(
        firstError(await call(alice, CREATE, { i: { name: 'x', circle: { ...C, radiusMeters: 5 } } }))['code'],
      ).toBe('FORBIDDEN');
      const id = await fence({ circle: { ...C, radiusMeters: 5 } });
      for (const [q, v] of [
        ['query($id: ID!) { geofence(id: $id) { id } }', { id }],
        [UPDATE, { id, i: { name: 'stolen' } }],
        [DELETE, { id }],
      ] as const)
        expect(firstError(await call(other, q, v))['code']).toBe('NOT_FOUND');
      const theirs = await call<{ geofences: { edges: unknown[] } }>(other, 'query { geofences { edges { cursor } } }');
      expect(theirs.data!.geofences.edges).toEqual([]);
    });

    it.each([
      [{ name: '', circle: { ...C, radiusMeters: 5 } }, 'input.name'],
      [{ name: 'a'.repeat(101), circle: { ...C, radiusMeters: 5 } }, 'input.name'],
      [{ name: 'a\u0000b', circle: { ...C, radiusMeters: 5 } }, 'input.name'],
      [{ name: 'x', circle: { ...C, radiusMeters: 0.5 } }, 'input.circle.radiusMeters'],
      [{ name: 'x', circle: { ...C, radiusMeters: 100_001 } }, 'input.circle.radiusMeters'],
      [{ name: 'x', circle: { latitude: 91, longitude: 0, radiusMeters: 5 } }, 'input.circle.latitude'],
      [{ name: 'x', circle: { latitude: 0, longitude: -181, radiusMeters: 5 } }, 'input.circle.longitude'],
      [{ name: 'x' }, 'input.circle'],
      [
        {
          name: 'x',
          circle: { ...C, radiusMeters: 5 },
          polygon: [
            [0, 0],
            [1, 0],
            [1, 1],
            [0, 0],
          ],
        },
        'input.circle',
      ],
      [
        {
          name: 'x',
          polygon: [
            [0, 0],
            [1, 0],
            [0, 0],
          ],
        },
        'input.polygon',
      ],
      [
        {
          name: 'x',
          polygon: [
            [0, 0],
            [1, 0],
            [1, 1],
            [0, 1],
          ],
        },
        'input.polygon',
      ],
      [
        {
          name: 'x',
          polygon: [
            [0, 0],
            [1, 1],
            [1, 0],
            [0, 1],
            [0, 0],
          ],
        },
        'input.polygon[0]',
      ],
      [
        {
          name: 'x',
          polygon: [
            [0, 0],
            [1, 0],
            [1, 95],
            [0, 0],
          ],
        },
        'input.polygon[2][1]',
      ],
      [
        {
          name: 'x',
          polygon: [
            [-170, 80],
            [-50, 80],
            [70, 80],
            [-170, 80],
          ],
        },
        'input.polygon',
      ],
      [{ name: 'x', circle: { ...C, radiusMeters: 5 }, tags: ['a\u0000'] }, 'input.tags[0]'],
      [
        { name: 'x', circle: { ...C, radiusMeters: 5 }, tags: Array.from({ length: 21 }, (_, i) => `t${i}`) },
        'input.tags',
      ],
      [{ name: 'x', circle: { ...C, radiusMeters: 5 }, dwellSeconds: 0 }, 'input.dwellSeconds'],
    ])('refuses %j naming %s', async (input, field) => {
      const r = await call(admin, CREATE, { i: input });
      expect(firstError(r)).toMatchObject({ code: 'BAD_USER_INPUT', field });
    });

    it('refuses more than the per-tenant cap with CONFLICT', async () => {
      const capped = await startServer(2);
      const t = (await createTestTenant(db, 'geo-cap')).id;
      const a = await createUser(db, t, 'TENANT_ADMIN');
      const make = () => capped(a, CREATE, { i: { name: 'c', circle: { ...C, radiusMeters: 5 } } });
      expect((await make()).errors).toBeUndefined();
      expect((await make()).errors).toBeUndefined();
      expect(firstError(await make())['code']).toBe('CONFLICT');
    });
  });

  describe('evaluation in the points transaction', () => {
    it('circle: ENTER on the first point inside, DWELL once after dwellSeconds, EXIT; outbox matches history', async () => {
      const g = await fence({ circle: { ...C, radiusMeters: 1_000 }, dwellSeconds: 5 });
      const s = await start(alice);
      await record(alice, s, [pt(...IN), pt(...IN), pt(...IN)]); // t, t+1s, t+2s
      expect(types(await events(alice, { s, g }))).toEqual(['ENTER']);
      await record(alice, s, [pt(...IN), pt(...IN), pt(...IN), pt(...IN)]); // … t+6s: ≥ 5 s after ENTER
      expect(types(await events(alice, { s, g }))).toEqual(['ENTER', 'DWELL']);
      const inside = await call<{ locationSession: { geofencesInside: { id: string }[] } }>(alice, INSIDE, { id: s });
      expect(inside.data!.locationSession.geofencesInside.map((f) => f.id)).toContain(g);
      await record(alice, s, [pt(...OUT), pt(...OUT)]);
      const evs = await events(alice, { s, g });
      expect(types(evs)).toEqual(['ENTER', 'DWELL', 'EXIT']);
      const ob = (await outboxTypes(t1, s)).filter((o) => (o.payload as { geofenceId: string }).geofenceId === g);
      expect(ob.map((o) => o.type)).toEqual(['geofence.entered.v1', 'geofence.dwelled.v1', 'geofence.exited.v1']);
      expect(ob.map((o) => o.id)).toEqual(evs.map((e) => e.id));
      expect(ob[0]!.payload).toMatchObject({ geofenceId: g, sessionId: s, userId: alice.userId, type: 'ENTER' });
      const after = await call<{ locationSession: { geofencesInside: unknown[] } }>(alice, INSIDE, { id: s });
      expect(after.data!.locationSession.geofencesInside).toEqual([]);
    });

    it('concave polygon: a point in the notch is outside, the arms are inside', async () => {
      // A "U": x 0..3, y 0..3, notch x 1..2, y 1..3 (longitude, latitude in degrees near 10°E 10°N).
      const U = [
        [10, 10],
        [10.03, 10],
        [10.03, 10.03],
        [10.02, 10.03],
        [10.02, 10.01],
        [10.01, 10.01],
        [10.01, 10.03],
        [10, 10.03],
        [10, 10],
      ];
      const g = await fence({ polygon: U });
      const s = await start(alice);
      await record(alice, s, [pt(10.02, 10.015)]); // lat 10.02, lon 10.015: in the notch
      expect(await events(alice, { s, g })).toEqual([]);
      await record(alice, s, [pt(10.02, 10.005)]); // left arm
      expect(types(await events(alice, { s, g }))).toEqual(['ENTER']);
      await record(alice, s, [pt(10.02, 10.015)]); // back into the notch: out
      expect(types(await events(alice, { s, g }))).toEqual(['ENTER', 'EXIT']);
    });

    it('polygon across the antimeridian and a circle at the pole', async () => {
      const g = await fence({
        polygon: [
          [179.9, -16.9],
          [-179.9, -16.9],
          [-179.9, -16.7],
          [179.9, -16.7],
          [179.9, -16.9],
        ],
      });
      const pole = await fence({ circle: { latitude: 89.99, longitude: 0, radiusMeters: 5_000 } });
      const s = await start(alice);
      await record(alice, s, [pt(-16.8, 0)]); // far away on the same latitude
      await record(alice, s, [pt(-16.8, 179.95)]); // inside, east of 180°
      await record(alice, s, [pt(-16.8, -179.95)]); // inside, west of 180°: still inside, no event
      await record(alice, s, [pt(89.995, 170)]); // near the pole on the other side: inside the circle
      const evs = await events(alice, { s });
      expect(evs.map((e) => [e.type, e.geofence.id])).toEqual([
        ['ENTER', g],
        ['EXIT', g],
        ['ENTER', pole],
      ]);
    });

    it('hysteresis: a point whose accuracy circle crosses the border changes nothing', async () => {
      const g = await fence({ circle: { ...C, radiusMeters: 1_000 } });
      const s = await start(alice);
      // ~0.9 km from the centre, inside, but ±500 m crosses the 1 km border: no ENTER.
      const edge = [52.5281, 13.405] as const;
      await record(alice, s, [pt(...edge, { accuracy: 500 })]);
      expect(await events(alice, { s, g })).toEqual([]);
      await record(alice, s, [pt(...IN, { accuracy: 10 })]);
      // ~1.1 km out with ±500 m: still not certain: no EXIT.
      await record(alice, s, [pt(52.5299, 13.405, { accuracy: 500 })]);
      expect(types(await events(alice, { s, g }))).toEqual(['ENTER']);
      await record(alice, s, [pt(...OUT, { accuracy: 50 })]);
      expect(types(await events(alice, { s, g }))).toEqual(['ENTER', 'EXIT']);
    });

    it('out-of-order points and retried points produce nothing', async () => {
      const g = await fence({ circle: { ...C, radiusMeters: 1_000 } });
      const s = await start(alice);
      const first = pt(...IN);
      await record(alice, s, [first]);
      const late = pt(...OUT);
      await record(alice, s, [pt(...IN)]);
      // Older than the last evaluated point: stored, but no EXIT.
      const r = await record(alice, s, [{ ...late, recordedAt: at(Date.parse(first.recordedAt) + 500) }]);
      expect(r.accepted).toBe(1);
      // A retry of a stored point: a duplicate, no second ENTER.
      expect((await record(alice, s, [first])).duplicates).toBe(1);
      expect(types(await events(alice, { s, g }))).toEqual(['ENTER']);
    });

    it('restart mid-visit: another process (cold index) continues the visit from the database', async () => {
      const g = await fence({ circle: { ...C, radiusMeters: 1_000 }, dwellSeconds: 3 });
      const s = await start(alice);
      await record(alice, s, [pt(...IN)]);
      await record(alice, s, [pt(...IN), pt(...IN), pt(...IN)], call2); // no second ENTER; DWELL after 3 s
      await record(alice, s, [pt(...OUT)], call2);
      expect(types(await events(alice, { s, g }))).toEqual(['ENTER', 'DWELL', 'EXIT']);
    });

    it('a fence changed on another replica applies to the next point; delete ends visits silently, keeps history', async () => {
      const g = await fence({ circle: { ...C, radiusMeters: 1_000 } });
      const s = await start(alice);
      await record(alice, s, [pt(...IN)], call2); // replica 2 caches the index
      // Shrink the fence via replica 1: the point ~0.9 km out is now outside.
      expect((await call(admin, UPDATE, { id: g, i: { circle: { ...C, radiusMeters: 100 } } })).errors).toBeUndefined();
      await record(alice, s, [pt(52.528, 13.405)], call2);
      expect(types(await events(alice, { s, g }))).toEqual(['ENTER', 'EXIT']);
      const d = await fence({ circle: { ...C, radiusMeters: 1_000 } });
      await record(alice, s, [pt(...IN)], call2);
      expect(types(await events(alice, { s, g: d }))).toEqual(['ENTER']);
      expect((await call(admin, DELETE, { id: d })).errors).toBeUndefined();
      await record(alice, s, [pt(...OUT)], call2);
      // The visit ended silently (no EXIT); the history survives and still names the fence.
      const all = await events(admin, { s });
      expect(all.filter((e) => e.geofence.id === d).map((e) => e.type)).toEqual(['ENTER']);
      expect(types(await events(admin, { g: d }))).toEqual(['ENTER']);
      // The deleted fence itself is gone for every other purpose.
      expect(firstError(await call(admin, 'query($id: ID!) { geofence(id: $id) { id } }', { id: d }))['code']).toBe(
        'NOT_FOUND',
      );
      expect(firstError(await call(admin, DELETE, { id: d }))['code']).toBe('NOT_FOUND');
      expect(firstError(await call(admin, UPDATE, { id: d, i: { name: 'x' } }))['code']).toBe('NOT_FOUND');
      const listed = await call<{ geofences: { edges: { node: { id: string } }[] } }>(
        admin,
        'query { geofences(first: 100) { edges { node { id } } } }',
      );
      expect(listed.data!.geofences.edges.map((e) => e.node.id)).not.toContain(d);
      // Not evaluated any more: inside its area again, no new event.
      await record(alice, s, [pt(...IN)], call2);
      expect(types(await events(admin, { g: d }))).toEqual(['ENTER']);
      await record(alice, s, [pt(...OUT)], call2);
      const inside = await call<{ locationSession: { geofencesInside: unknown[] } }>(alice, INSIDE, { id: s });
      expect(inside.data!.locationSession.geofencesInside).toEqual([]);
    });

    // Needs two transactions open at once: the embedded database runs one at a time.
    it.skipIf(!o.concurrentTransactions)(
      "a batch that waited for another batch of its session evaluates from that batch's state",
      async () => {
        const g = await fence({ circle: { ...C, radiusMeters: 1_000 } });
        const s = await start(alice);
        const out = pt(...OUT);
        // "Another batch" (as the owner): holds the session row, then commits a point inside the fence
        // and its visit while the real batch, whose statement snapshot predates that commit, waits.
        const owner = new pg.Client({ connectionString: env().ownerUrl });
        await owner.connect();
        try {
          await owner.query('BEGIN');
          await owner.query(`SELECT set_config('app.tenant_id', $1, true)`, [t1]);
          await owner.query(`SELECT 1 FROM location_sessions WHERE id = $1 FOR UPDATE`, [s]);
          const xid = (await owner.query<{ x: string }>(`SELECT pg_current_xact_id()::text AS x`)).rows[0]!.x;
          const pending = call(alice, BATCH, { s, ls: [out] });
          let waiting = false;
          for (let i = 0; i < 400 && !waiting; i++) {
            const r = await owner.query<{ n: number }>(
              `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'transactionid' AND NOT granted
             AND transactionid::text = $1`,
              [xid],
            );
            waiting = r.rows[0]!.n > 0;
            if (!waiting) await new Promise((r) => setTimeout(r, 25));
          }
          expect(waiting).toBe(true);
          const inside = new Date(Date.parse(out.recordedAt) - 500).toISOString();
          const p = await owner.query<{ id: string }>(
            `INSERT INTO location_points (id, tenant_id, session_id, latitude, longitude, recorded_at, received_at,
           created_at, updated_at)
         VALUES (gen_random_uuid(), $1, $2, $3, $4, $5, now(), now(), now()) RETURNING id`,
            [t1, s, IN[0], IN[1], inside],
          );
          await owner.query(
            `UPDATE location_sessions SET point_count = point_count + 1, last_point_id = $2 WHERE id = $1`,
            [s, p.rows[0]!.id],
          );
          await owner.query(
            `INSERT INTO geofence_visits (tenant_id, session_id, geofence_id, entered_at) VALUES ($1, $2, $3, $4)`,
            [t1, s, g, inside],
          );
          await owner.query('COMMIT');
          expect((await pending).errors).toBeUndefined();
        } finally {
          await owner.end();
        }
        expect(types(await events(alice, { s, g }))).toEqual(['EXIT']);
      },
    );

    it('a transaction that fails after the evaluation writes neither points nor events', async () => {
      const g = await fence({ circle: { ...C, radiusMeters: 1_000 } });
      const s = await start(alice);
      // Injected failure (as the owner): the geofence outbox insert of this session raises, after the
      // points, visits and history rows were written in the same transaction.
      const owner = new pg.Client({ connectionString: env().ownerUrl });
      await owner.connect();
      const fn = `fail_geo_${s.replace(/-/g, '')}`;
      try {
        await owner.query(`CREATE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS
        $$ BEGIN RAISE EXCEPTION 'injected'; END $$`);
        await owner.query(`CREATE TRIGGER ${fn} BEFORE INSERT ON outbox FOR EACH ROW
        WHEN (NEW.topic = 'geofence-events' AND NEW.key = '${t1}:${s}') EXECUTE FUNCTION ${fn}()`);
        const r = await call(alice, BATCH, { s, ls: [pt(...IN), pt(...IN)] });
        expect(r.errors).toBeDefined();
      } finally {
        await owner.query(`DROP TRIGGER IF EXISTS ${fn} ON outbox`);
        await owner.query(`DROP FUNCTION IF EXISTS ${fn}()`);
        await owner.end();
      }
      expect(await events(alice, { s, g })).toEqual([]);
      expect(await outboxTypes(t1, s)).toEqual([]);
      expect(await withTenant(db, t1, (tx) => tx.locationPoint.count({ where: { sessionId: s } }))).toBe(0);
      const inside = await call<{ locationSession: { geofencesInside: unknown[] } }>(alice, INSIDE, { id: s });
      expect(inside.data!.locationSession.geofencesInside).toEqual([]);
      // Without the failure the same points enter.
      await record(alice, s, [pt(...IN)]);
      expect(types(await events(alice, { s, g }))).toEqual(['ENTER']);
    });
  });

  describe('tenant isolation and visibility', () => {
    it("other tenants' points never trigger a tenant's fences; MEMBERs see their own sessions' events", async () => {
      const g = await fence({ circle: { ...C, radiusMeters: 1_000 } });
      const s2 = await start(other);
      await record(other, s2, [pt(...IN)]);
      expect(await events(other, { s: s2 })).toEqual([]);
      expect((await events(admin, { g })).length).toBe(0);
      const sb = await start(bob);
      await record(bob, sb, [pt(...IN)]);
      expect((await events(admin, { g })).length).toBe(1);
      expect(await events(alice, { g })).toEqual([]);
      expect((await events(bob, { g })).length).toBe(1);
      const r = await call(other, EVENTS, { g });
      expect(r.data).toEqual({ geofenceEvents: { edges: [] } });
    });

    it('live: geofence events go to the tenant channel after the commit, ids only', async () => {
      const got: LiveEvent[] = [];
      const gotOther: LiveEvent[] = [];
      const off1 = await pubsub.subscribe(tenantChannel(t1, 'live'), (m) => got.push(parseLiveEvent(m)!));
      const off2 = await pubsub.subscribe(tenantChannel(t2, 'live'), (m) => gotOther.push(parseLiveEvent(m)!));
      try {
        const g = await fence({ circle: { ...C, radiusMeters: 1_000 } });
        const s = await start(bob);
        await record(bob, s, [pt(...IN)]);
        const evs = await events(bob, { s, g });
        await new Promise((r) => setImmediate(r));
        const geo = got
          .filter((e) => e.kind === 'geofence' && e.sessionId === s)
          .map((e) => (e.kind === 'geofence' ? { ...e, events: e.events.filter((x) => x.geofenceId === g) } : e));
        expect(geo).toEqual([
          expect.objectContaining({
            tenantId: t1,
            userId: bob.userId,
            events: [{ id: evs[0]!.id, geofenceId: g }],
          }),
        ]);
        expect(gotOther.filter((e) => e.kind === 'geofence')).toEqual([]);
        // The re-read the router uses answers as the subscriber: bob sees it, alice does not.
        const q = 'query($ids: [ID!]!) { liveGeofenceEvents(eventIds: $ids) { id type session { id } } }';
        const asBob = await call<{ liveGeofenceEvents: unknown[] }>(bob, q, { ids: [evs[0]!.id] });
        expect(asBob.data!.liveGeofenceEvents).toEqual([{ id: evs[0]!.id, type: 'ENTER', session: { id: s } }]);
        const asAlice = await call<{ liveGeofenceEvents: unknown[] }>(alice, q, { ids: [evs[0]!.id] });
        expect(asAlice.data!.liveGeofenceEvents).toEqual([]);
        const asOther = await call<{ liveGeofenceEvents: unknown[] }>(other, q, { ids: [evs[0]!.id] });
        expect(asOther.data!.liveGeofenceEvents).toEqual([]);
      } finally {
        await off1();
        await off2();
      }
    });
  });
}
