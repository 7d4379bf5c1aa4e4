/**
 * Tenant isolation in the database itself, as a contract any Postgres implementation
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
  const device = await tx.device.create({
    data: { tenantId, userId: user.id, deviceId: 'd', lastSessionId: session.id },
  });
  const summary = await tx.sessionSummary.create({ data: { tenantId, sessionId: session.id } });
  const pointKey = await tx.locationPointKey.create({
    data: { tenantId, sessionId: session.id, idempotencyKey: 'k', recordedAt: point.recordedAt },
  });
  // The direct path's batch journal has no Prisma model (node-postgres writes it).
  const batchId = randomUUID();
  await tx.$executeRaw`
    INSERT INTO webhook_batch_parts (tenant_id, sink_id, batch_id, part, topic, event_ids, types, ordering_keys,
                                     payloads, seqs, owner, lease_until, created_at)
    VALUES (${tenantId}::uuid, ${sink.id}::uuid, ${batchId}::uuid, 0, 'session-events', ARRAY[${outbox.id}]::uuid[],
            ARRAY['session.started.v1'], ARRAY['k'], ARRAY['{}'], ARRAY[1]::bigint[], 'test', now(), now())`;
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
    geofence_events: fenceEvent.id,
    devices: device.id,
    session_summaries: summary.sessionId,
    location_point_keys: pointKey.sessionId,
    webhook_batch_parts: batchId,
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
  'geofence_events',
  'devices',
  'session_summaries',
  'location_point_keys',
  'webhook_batch_parts',
];
const ID_COLUMNS: Record<string, string> = {
  processed_events: 'event_id',
  geofence_tenant_state: 'tenant_id',
  session_summaries: 'session_id',
  location_point_keys: 'session_id',
  webhook_batch_parts: 'batch_id',
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
          const col =
            table === 'tenants' ? 'updated_at' : table === 'location_point_keys' ? 'recorded_at' : 'created_at';
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

  describe('catalogue guard: no table the services reach can forget RLS or weaken its policy', () => {
    /** Relations outside the system schemas that `role` can reach: schema USAGE and any DML right. */
    const REACHABLE = `
      SELECT n.nspname AS schema, c.relname AS table, c.relkind AS kind,
             c.relrowsecurity AS enabled, c.relforcerowsecurity AS forced,
             EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped) AS tenant_column
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
         AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
         AND has_schema_privilege($1, n.oid, 'USAGE')
         AND (has_table_privilege($1, c.oid, 'SELECT') OR has_table_privilege($1, c.oid, 'INSERT')
              OR has_table_privilege($1, c.oid, 'UPDATE') OR has_table_privilege($1, c.oid, 'DELETE'))
       ORDER BY 1, 2`;
    /** Tables with a tenant_id anywhere (any schema), reachable or not: a future grant must not skip RLS. */
    const TENANT_TABLES = `
      SELECT n.nspname AS schema, c.relname AS table, c.relrowsecurity AS enabled, c.relforcerowsecurity AS forced
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
         AND c.relkind IN ('r', 'p')
         AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
       ORDER BY 1, 2`;
    /** Every partition (any depth) of a table, with its top-level parent. */
    const PARTITIONS = `
      WITH RECURSIVE t(part, parent) AS (
        SELECT i.inhrelid, i.inhparent FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhparent WHERE c.relkind = 'p'
        UNION ALL SELECT i.inhrelid, t.parent FROM pg_inherits i JOIN t ON i.inhparent = t.part)
      SELECT p.relname::text AS part, q.relname::text AS parent, p.relrowsecurity AS enabled,
             p.relforcerowsecurity AS forced, p.relacl::text AS acl,
             (SELECT count(*)::int FROM pg_policy x WHERE x.polrelid = p.oid) AS policies
        FROM t JOIN pg_class p ON p.oid = t.part JOIN pg_class q ON q.oid = t.parent ORDER BY 1`;
    // The only policy expressions allowed (pg_get_expr's text, whitespace and column aliases removed).
    // app_current_tenant() is current_setting('app.tenant_id', true); app_is_platform() is the
    // documented platform path (app.platform = on), for the tenants table and platform-admin users only.
    const TENANT = '(tenant_id=(SELECTapp_current_tenant()))';
    const ALLOWED: Record<string, string> = {
      tenants: '((id=(SELECTapp_current_tenant()))OR(SELECTapp_is_platform()))',
      users: '((tenant_id=(SELECTapp_current_tenant()))OR((tenant_idISNULL)AND(SELECTapp_is_platform())))',
    };
    const norm = (e: string | null): string | null =>
      e === null ? null : e.replace(/\s+/g, '').replace(/ASapp_\w+/g, '');

    async function catalogue<T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> {
      const client = new pg.Client({ connectionString: env().catalogueUrl });
      await client.connect();
      try {
        return (await client.query<T>(sql, params)).rows;
      } finally {
        await client.end();
      }
    }
    /** The role the services run as, read from their own connection (lt_app). */
    const appRole = () =>
      withSystem(db, (tx) => tx.$queryRaw<{ r: string }[]>`SELECT current_user::text AS r`).then((x) => x[0]!.r);

    it('every relation the services role can reach, in any schema, is a seeded table with RLS enabled and forced', async () => {
      const role = await appRole();
      expect(role).not.toBe('');
      const rows = await catalogue<{
        schema: string;
        table: string;
        kind: string;
        enabled: boolean;
        forced: boolean;
        tenant_column: boolean;
      }>(REACHABLE, [role]);
      expect(rows.map((r) => `${r.schema}.${r.table}`).sort()).toEqual(TABLES.map((t) => `public.${t}`).sort());
      const offenders = rows
        .filter(
          (r) => !['r', 'p'].includes(r.kind) || !r.enabled || !r.forced || (!r.tenant_column && r.table !== 'tenants'),
        )
        .map((r) => `${r.schema}.${r.table}`);
      expect(offenders, 'reachable relations without enabled+forced RLS on a tenant column').toEqual([]);
      const tenantTables = await catalogue<{ schema: string; table: string; enabled: boolean; forced: boolean }>(
        TENANT_TABLES,
      );
      expect(tenantTables.filter((r) => !r.enabled || !r.forced).map((r) => `${r.schema}.${r.table}`)).toEqual([]);
    });

    it('every partition of an RLS table has RLS enabled and forced, one policy, and no grant (reached through its parent only)', async () => {
      const parts = await catalogue<{
        part: string;
        parent: string;
        enabled: boolean;
        forced: boolean;
        acl: string | null;
        policies: number;
      }>(PARTITIONS);
      // The points table is partitioned (weekly and a default partition).
      expect(parts.filter((p) => p.parent === 'location_points').map((p) => p.part)).toContain(
        'location_points_default',
      );
      expect(parts.filter((p) => p.parent === 'location_points').length).toBeGreaterThan(1);
      expect(parts.filter((p) => !p.enabled || !p.forced || p.acl !== null || p.policies !== 1)).toEqual([]);
      const role = await appRole();
      for (const p of parts)
        await expect(
          withSystem(db, (tx) => tx.$queryRawUnsafe(`SELECT 1 FROM "${p.part}" LIMIT 1`)),
          `${role} reads ${p.part} directly`,
        ).rejects.toThrow(/permission denied/i);
    });

    it("every policy on them says only the tenant check on current_setting('app.tenant_id', true) (or the platform path)", async () => {
      const policies = await catalogue<{
        schema: string;
        table: string;
        name: string;
        permissive: string;
        cmd: string;
        roles: string[] | string;
        qual: string | null;
        with_check: string | null;
      }>(`
        SELECT schemaname AS schema, tablename AS table, policyname AS name, permissive, cmd, roles::text[] AS roles, qual, with_check
          FROM pg_policies WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2, 3`);
      // Partitions (of the points table) carry their parent's policy: checked below like any other.
      const parents = new Map(
        (await catalogue<{ part: string; parent: string }>(PARTITIONS)).map((r) => [r.part, r.parent]),
      );
      // One policy per tenant table, for every command and role: nothing else can widen what a statement sees.
      expect(
        policies
          .filter((p) => !parents.has(p.table))
          .map((p) => p.table)
          .sort(),
      ).toEqual([...TABLES].sort());
      for (const p of policies) {
        const expected = ALLOWED[parents.get(p.table) ?? p.table] ?? TENANT;
        expect({
          table: p.table,
          permissive: p.permissive,
          cmd: p.cmd,
          qual: norm(p.qual),
          check: norm(p.with_check),
        }).toEqual({
          table: p.table,
          permissive: 'PERMISSIVE',
          cmd: 'ALL',
          qual: expected,
          check: expected,
        });
      }
      // ...and the functions they call read the transaction-local settings and nothing else.
      const fns = await catalogue<{ name: string; src: string; definer: boolean }>(`
        SELECT proname AS name, prosrc AS src, prosecdef AS definer FROM pg_proc
         WHERE proname IN ('app_current_tenant', 'app_is_platform') ORDER BY 1`);
      expect(fns.map((f) => ({ name: f.name, src: f.src.replace(/\s+/g, ' ').trim(), definer: f.definer }))).toEqual([
        {
          name: 'app_current_tenant',
          src: "SELECT nullif(current_setting('app.tenant_id', true), '')::uuid",
          definer: false,
        },
        {
          name: 'app_is_platform',
          src: "SELECT coalesce(current_setting('app.platform', true), '') = 'on'",
          definer: false,
        },
      ]);
    });
  });
}
