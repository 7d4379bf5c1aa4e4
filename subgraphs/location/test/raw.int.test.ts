/**
 * The raw (node-postgres) transaction of the point write path: forced row-level security as with
 * `withTenant`, the tenant setting transaction-local (never left on a pooled connection), all or
 * nothing, named statements per connection.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeRawPool, createDb, rawPool, withTenant, type Db } from '@lt/db';
import { Cleanup, createTestTenant, testEnv } from '@lt/testing';
import { recordPoints } from '../src/data/points';
import { withTenantRaw } from '../src/data/raw';
import { createUser } from './fixtures';

const cleanup = new Cleanup();
let db: Db;
let t1: string;
let t2: string;
let s1: string;
let s2: string;

let u1: string;
async function startSession(tenantId: string): Promise<string> {
  const m = await createUser(db, tenantId, 'MEMBER');
  u1 ??= m.userId;
  const s = await withTenant(db, tenantId, (tx) => tx.locationSession.create({ data: { tenantId, userId: m.userId } }));
  return s.id;
}

beforeAll(async () => {
  db = createDb({ url: testEnv().databaseUrl, max: 2 });
  cleanup.add(() => db.$disconnect());
  cleanup.add(() => closeRawPool(db));
  t1 = (await createTestTenant(db, 'raw')).id;
  t2 = (await createTestTenant(db, 'raw')).id;
  s1 = await startSession(t1);
  s2 = await startSession(t2);
});
afterAll(() => cleanup.run());

describe('withTenantRaw', () => {
  it("sees only its tenant's rows (forced RLS, the services role)", async () => {
    const ids = await withTenantRaw(db, t1, (tx) =>
      tx.$queryRawUnsafe<{ id: string }[]>(`SELECT id FROM location_sessions WHERE id = ANY($1::uuid[])`, [s1, s2]),
    );
    expect(ids.map((r) => r.id)).toEqual([s1]);
    const role = await withTenantRaw(db, t1, (tx) =>
      tx.$queryRawUnsafe<{ r: string; bypass: boolean }[]>(
        `SELECT current_user AS r, (SELECT rolbypassrls FROM pg_roles WHERE rolname = current_user) AS bypass`,
      ),
    );
    expect(role[0]!.bypass).toBe(false);
  });

  it("cannot write into another tenant's session (WITH CHECK), and the write is rolled back", async () => {
    await expect(
      withTenantRaw(db, t1, (tx) =>
        tx.$executeRawUnsafe(
          `INSERT INTO location_points (id, tenant_id, session_id, latitude, longitude, recorded_at, updated_at)
           VALUES ($1::uuid, $2::uuid, $3::uuid, 1, 1, now(), now())`,
          randomUUID(),
          t2,
          s2,
        ),
      ),
    ).rejects.toMatchObject({ code: '42501' });
    // Updates of another tenant's rows touch nothing.
    const n = await withTenantRaw(db, t1, (tx) =>
      tx.$executeRawUnsafe(`UPDATE location_sessions SET point_count = 99 WHERE id = $1::uuid`, s2),
    );
    expect(n).toBe(0);
    const [row] = await withTenant(db, t2, (tx) =>
      tx.$queryRawUnsafe<{ point_count: number }[]>(
        `SELECT point_count FROM location_sessions WHERE id = $1::uuid`,
        s2,
      ),
    );
    expect(row!.point_count).toBe(0);
  });

  it('is all or nothing: a failure rolls back what the transaction wrote', async () => {
    await expect(
      withTenantRaw(db, t1, async (tx) => {
        await tx.$executeRawUnsafe(`UPDATE location_sessions SET point_count = 42 WHERE id = $1::uuid`, s1);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    const [row] = await withTenant(db, t1, (tx) =>
      tx.$queryRawUnsafe<{ point_count: number }[]>(
        `SELECT point_count FROM location_sessions WHERE id = $1::uuid`,
        s1,
      ),
    );
    expect(row!.point_count).toBe(0);
  });

  it('leaves no tenant on the pooled connection afterwards', async () => {
    const pool = rawPool(db);
    // Every idle connection of the pool (max 8) is checked out at once, so the used one is among them.
    const clients = await Promise.all(Array.from({ length: pool.totalCount || 1 }, () => pool.connect()));
    try {
      for (const c of clients) {
        const r = await c.query<{ t: string | null; n: number }>(
          `SELECT current_setting('app.tenant_id', true) AS t, (SELECT count(*)::int FROM location_sessions) AS n`,
        );
        expect(r.rows[0]!.t || null).toBeNull();
        expect(r.rows[0]!.n).toBe(0);
      }
    } finally {
      for (const c of clients) c.release();
    }
  });

  it('refuses a malformed tenant id before touching the database', async () => {
    await expect(withTenantRaw(db, "x' OR true --", () => Promise.resolve(1))).rejects.toThrow(TypeError);
    await expect(withTenantRaw(db, '', () => Promise.resolve(1))).rejects.toThrow(TypeError);
  });

  it('runs a named statement again on the same connection (prepared once per connection)', async () => {
    const text = `SELECT id FROM location_sessions WHERE id = $1::uuid`;
    for (let i = 0; i < 3; i++) {
      const rows = await withTenantRaw(db, t1, (tx) => tx.prepared<{ id: string }>('lt_test_named', text, [s1]));
      expect(rows).toEqual([{ id: s1 }]);
    }
    const other = await withTenantRaw(db, t2, (tx) => tx.prepared<{ id: string }>('lt_test_named', text, [s1]));
    expect(other).toEqual([]);
  });
});

describe('recordPoints parameters', () => {
  it('stores every float exactly as sent (array literals), nulls as NULL, and skips a re-sent point', async () => {
    const at = Date.now() + 1_000;
    const inputs = [
      {
        latitude: 1e-7,
        longitude: -179.99999999999997,
        accuracy: 0,
        altitude: -1.5e-300,
        speed: 0,
        heading: 359.9999999999999,
        recordedAt: new Date(at),
      },
      {
        latitude: 52.123456789012344,
        longitude: 13.4,
        accuracy: null,
        altitude: null,
        speed: null,
        heading: null,
        recordedAt: new Date(at + 1),
        idempotencyKey: 'a,"b"{c} NULL',
      },
      { latitude: -90, longitude: 180, recordedAt: new Date(at + 2) },
    ];
    const scope = { tenantId: t1, userId: u1, ownOnly: false };
    const r = await recordPoints(db, scope, s1, inputs, (i) => `locations[${i}]`);
    expect(r.inserted).toHaveLength(3);
    const again = await recordPoints(db, scope, s1, [inputs[1]!], () => 'location');
    expect(again.inserted).toHaveLength(0);
    expect(again.duplicates).toBe(1);
    const rows = await withTenant(db, t1, (tx) =>
      tx.$queryRawUnsafe<Record<string, unknown>[]>(
        `SELECT latitude, longitude, accuracy, altitude, speed, heading, recorded_at, idempotency_key
         FROM location_points WHERE session_id = $1::uuid ORDER BY recorded_at`,
        s1,
      ),
    );
    expect(rows).toEqual(
      inputs.map((p) => ({
        latitude: p.latitude,
        longitude: p.longitude,
        accuracy: p.accuracy ?? null,
        altitude: p.altitude ?? null,
        speed: p.speed ?? null,
        heading: p.heading ?? null,
        recorded_at: p.recordedAt,
        idempotency_key: p.idempotencyKey ?? null,
      })),
    );
  });
});
