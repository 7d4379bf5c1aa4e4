/**
 * Tenant isolation in the database itself (issue #2), as a contract any Postgres implementation
 * must pass: the real server (rls.int.test.ts) and the embedded PGlite one
 * (packages/embedded/test/rls.embedded.int.test.ts). Everything runs as the services' role
 * (lt_app) through withTenant/withPlatform, exactly as subgraphs do.
 *
 * New tenant tables: add them to TABLES and to `seed` below.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, withPlatform, withSystem, withTenant, type Db, type Tx } from '@lt/db';
import { createTestTenant, type TestTenant } from '@lt/testing';

export interface RlsContractEnv {
  /** The services' role (lt_app): what every subgraph connects as. */
  appUrl: string;
  /** A connection allowed to read the catalogue (the owner on a real server). */
  catalogueUrl: string;
}

/** Inserts one row of every tenant-owned table for `tenantId` and returns their ids by table. */
async function seed(tx: Tx, tenantId: string): Promise<Record<string, string>> {
  const user = await tx.user.create({
    data: { cognitoSub: randomUUID(), email: `${randomUUID()}@example.test`, tenantId, role: 'MEMBER' },
  });
  const invitation = await tx.invitation.create({
    data: {
      tenantId,
      email: `${randomUUID()}@example.test`,
      role: 'MEMBER',
      codeHash: randomUUID(),
      expiresAt: new Date(Date.now() + 60_000),
    },
  });
  const session = await tx.locationSession.create({ data: { tenantId, userId: user.id } });
  const point = await tx.locationPoint.create({
    data: { tenantId, sessionId: session.id, latitude: 1, longitude: 2, recordedAt: new Date() },
  });
  const outbox = await tx.outbox.create({
    data: {
      tenantId,
      topic: 'session-events',
      key: `${tenantId}:${session.id}`,
      type: 'session.started.v1',
      payload: {},
    },
  });
  const sink = await tx.streamSink.create({
    data: { tenantId, name: 's', url: 'https://example.test/hook', topics: ['SESSION_EVENTS'], secretEnc: 'x' },
  });
  const delivery = await tx.delivery.create({
    data: {
      tenantId,
      sinkId: sink.id,
      eventId: outbox.id,
      topic: 'session-events',
      type: 'session.started.v1',
      payload: {},
    },
  });
  const processed = await tx.processedEvent.create({ data: { tenantId, consumer: 'test', eventId: outbox.id } });
  const fence = await tx.geofence.create({
    data: { tenantId, name: 'f', shapeType: 'CIRCLE', latitude: 1, longitude: 2, radiusMeters: 10 },
  });
  const fenceState = await tx.geofenceTenantState.create({ data: { tenantId } });
  const visit = await tx.geofenceVisit.create({
    data: { tenantId, sessionId: session.id, geofenceId: fence.id, enteredAt: new Date() },
  });
  const fenceSession = await tx.geofenceSessionState.create({
    data: { tenantId, sessionId: session.id, lastEvaluatedAt: new Date() },
  });
  const fenceEvent = await tx.geofenceEvent.create({
    data: {
      id: outbox.id,
      tenantId,
      geofenceId: fence.id,
      sessionId: session.id,
      userId: user.id,
      pointId: point.id,
      type: 'ENTER',
      at: new Date(),
    },
  });
  return {
    tenants: tenantId,
    users: user.id,
    invitations: invitation.id,
    location_sessions: session.id,
    location_points: point.id,
    outbox: outbox.id,
    stream_sinks: sink.id,
    deliveries: delivery.id,
    processed_events: processed.eventId,
    geofences: fence.id,
    geofence_tenant_state: fenceState.tenantId,
    geofence_visits: visit.id,
    geofence_session_state: fenceSession.sessionId,
    geofence_events: fenceEvent.id,
  };
}

const TABLES = [
  'tenants',
  'users',
  'invitations',
  'location_sessions',
  'location_points',
  'outbox',
  'stream_sinks',
  'deliveries',
  'processed_events',
  'geofences',
  'geofence_tenant_state',
  'geofence_visits',
  'geofence_session_state',
  'geofence_events',
];
const ID_COLUMNS: Record<string, string> = {
  processed_events: 'event_id',
  geofence_tenant_state: 'tenant_id',
  geofence_session_state: 'session_id',
};
const idColumn = (t: string): string => ID_COLUMNS[t] ?? 'id';

/** Registers the whole suite; `env` is read in beforeAll, so it may come from an earlier hook. */
export function rlsContract(env: () => RlsContractEnv): void {
  let db: Db;
  let a: TestTenant;
  let b: TestTenant;
  let rowsA: Record<string, string>;
  let rowsB: Record<string, string>;

  beforeAll(async () => {
    db = createDb({ url: env().appUrl });
    a = await createTestTenant(db, 'rls-a');
    b = await createTestTenant(db, 'rls-b');
    rowsA = await withTenant(db, a.id, (tx) => seed(tx, a.id));
    rowsB = await withTenant(db, b.id, (tx) => seed(tx, b.id));
  });
  afterAll(async () => {
    await db?.$disconnect();
  });

  describe('row-level security as the services role', () => {
    it('connects as a role that is neither superuser nor BYPASSRLS', async () => {
      const rows = await withSystem(
        db,
        (tx) =>
          tx.$queryRaw<{ rolsuper: boolean; rolbypassrls: boolean; rolname: string }[]>`
          SELECT rolname, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user`,
      );
      expect(rows).toEqual([{ rolname: 'lt_app', rolsuper: false, rolbypassrls: false }]);
    });

    for (const table of TABLES) {
      describe(table, () => {
        it("tenant A sees its own row and none of tenant B's", async () => {
          const seen = await withTenant(db, a.id, (tx) =>
            tx.$queryRawUnsafe<{ id: string }[]>(
              `SELECT ${idColumn(table)}::text AS id FROM "${table}" WHERE ${idColumn(table)} = ANY($1::uuid[])`,
              [rowsA[table], rowsB[table]],
            ),
          );
          expect(seen.map((r) => r.id)).toEqual([rowsA[table]]);
        });

        it("tenant A can neither update nor delete tenant B's row", async () => {
          const col = table === 'tenants' ? 'updated_at' : 'created_at';
          const updated = await withTenant(db, a.id, (tx) =>
            tx.$executeRawUnsafe(
              `UPDATE "${table}" SET ${col} = now() WHERE ${idColumn(table)} = $1::uuid`,
              rowsB[table],
            ),
          );
          const deleted = await withTenant(db, a.id, (tx) =>
            tx.$executeRawUnsafe(`DELETE FROM "${table}" WHERE ${idColumn(table)} = $1::uuid`, rowsB[table]),
          );
          expect([updated, deleted]).toEqual([0, 0]);
          const still = await withTenant(db, b.id, (tx) =>
            tx.$queryRawUnsafe<unknown[]>(`SELECT 1 FROM "${table}" WHERE ${idColumn(table)} = $1::uuid`, rowsB[table]),
          );
          expect(still).toHaveLength(1);
        });

        it('shows nothing when no tenant is set', async () => {
          const seen = await withSystem(db, (tx) => tx.$queryRawUnsafe<unknown[]>(`SELECT 1 FROM "${table}" LIMIT 5`));
          expect(seen).toHaveLength(0);
        });
      });
    }

    it('refuses inserting rows into another tenant (WITH CHECK)', async () => {
      const attempts: (() => Promise<unknown>)[] = [
        () =>
          withTenant(db, a.id, (tx) =>
            tx.locationSession.create({ data: { tenantId: b.id, userId: rowsB['users']! } }),
          ),
        () =>
          withTenant(db, a.id, (tx) =>
            tx.outbox.create({ data: { tenantId: b.id, topic: 'x', key: 'k', type: 't', payload: {} } }),
          ),
        () =>
          withTenant(db, a.id, (tx) =>
            tx.user.create({
              data: { cognitoSub: randomUUID(), email: `${randomUUID()}@x.test`, tenantId: b.id, role: 'TENANT_ADMIN' },
            }),
          ),
        () =>
          withTenant(db, a.id, (tx) =>
            tx.tenant.create({ data: { name: 'evil', slug: `evil-${randomUUID().slice(0, 8)}` } }),
          ),
      ];
      for (const attempt of attempts) {
        await expect(attempt()).rejects.toThrow(/row-level security/i);
      }
    });

    it('the platform path reaches the tenants table only', async () => {
      const tenants = await withPlatform(db, (tx) => tx.tenant.findMany({ where: { id: { in: [a.id, b.id] } } }));
      expect(tenants).toHaveLength(2);
      const sessions = await withPlatform(db, (tx) =>
        tx.locationSession.findMany({ where: { tenantId: { in: [a.id, b.id] } } }),
      );
      expect(sessions).toHaveLength(0);
      const users = await withPlatform(db, (tx) => tx.user.findMany({ where: { tenantId: { in: [a.id, b.id] } } }));
      expect(users).toHaveLength(0);
    });

    it('the tenant setting does not leak into the next transaction on the same pool', async () => {
      const single = createDb({ url: env().appUrl, max: 1 });
      try {
        await withTenant(single, a.id, (tx) => tx.locationSession.count());
        const after = await withSystem(single, (tx) => tx.locationSession.count());
        expect(after).toBe(0);
      } finally {
        await single.$disconnect();
      }
    });

    it('withTenant refuses a missing or malformed tenant id', async () => {
      await expect(withTenant(db, '', async () => 1)).rejects.toThrow(TypeError);
      await expect(withTenant(db, "x' OR 1=1", async () => 1)).rejects.toThrow(TypeError);
    });
  });

  describe('catalogue guard: no table with tenant_id can forget RLS', () => {
    it('every public table with a tenant_id column has RLS enabled + forced and a policy', async () => {
      const client = new pg.Client({ connectionString: env().catalogueUrl });
      await client.connect();
      try {
        const { rows } = await client.query<{ table: string; enabled: boolean; forced: boolean; policies: number }>(`
          SELECT c.relname AS table, c.relrowsecurity AS enabled, c.relforcerowsecurity AS forced,
                 (SELECT count(*)::int FROM pg_policies p WHERE p.schemaname = n.nspname AND p.tablename = c.relname) AS policies
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
             AND (EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
                  OR c.relname = 'tenants')
           ORDER BY 1`);
        expect(rows.length).toBeGreaterThanOrEqual(TABLES.length);
        const offenders = rows.filter((r) => !r.enabled || !r.forced || r.policies === 0).map((r) => r.table);
        expect(offenders, 'tables with tenant_id but without enabled+forced RLS and a policy').toEqual([]);
        // Every seeded table is covered by this suite's per-table checks too.
        expect(rows.map((r) => r.table).sort()).toEqual([...TABLES].sort());
      } finally {
        await client.end();
      }
    });
  });
}
