/**
 * The embedded Postgres (PGlite + the serialising wire server): migrations and persistence, the
 * services' role, and — the point of the wire server — isolation between concurrent clients.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, listMigrations, withTenant, type Db, MIGRATIONS_DIR } from '@lt/db';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '@lt/embedded';
import { Cleanup, createTestTenant } from '@lt/testing';

const migrationsDir = MIGRATIONS_DIR;
const dataDir = mkdtempSync(join(tmpdir(), 'lt-embedded-pg-'));
const cleanup = new Cleanup();
let emb: EmbeddedPostgres;
let db: Db;
let onWarn: ((fields: unknown) => void) | undefined;
const start = (): Promise<EmbeddedPostgres> =>
  startEmbeddedPostgres({ dataDir, slowWaitMs: 300, log: { warn: (_msg, fields) => onWarn?.(fields) } });

async function client(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await c.connect();
  cleanup.add(() => c.end().catch(() => undefined));
  return c;
}

/** True when `p` is still pending after `other` settled (the server is running someone else). */
async function stillPending(p: Promise<unknown>, other: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(
    () => (done = true),
    () => (done = true),
  );
  await other;
  return !done;
}

beforeAll(async () => {
  emb = await start();
  db = createDb({ url: emb.appUrl });
});
afterAll(async () => {
  await cleanup.run();
  await db?.$disconnect();
  await emb?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('start-up, migrations and persistence', () => {
  it('applies every migration on a fresh data dir, is a no-op on restart, and keeps the data', async () => {
    const names = listMigrations(migrationsDir).map((m) => m.name);
    expect(emb.applied).toEqual(names);
    const tenant = await createTestTenant(db, 'emb-persist');
    const fresh = emb.timings;

    await db.$disconnect();
    await emb.stop();
    emb = await start();
    db = createDb({ url: emb.appUrl });
    expect(emb.applied).toEqual([]);
    expect(emb.skipped).toEqual(names);
    const found = await withTenant(db, tenant.id, (tx) => tx.tenant.findUnique({ where: { id: tenant.id } }));
    expect(found?.slug).toBe(tenant.slug);
    console.log(`embedded postgres start-up ms: fresh ${JSON.stringify(fresh)}, reopen ${JSON.stringify(emb.timings)}`);
  });

  it("records Prisma-compatible migration rows; the owner owns the tables; the app role can't do DDL", async () => {
    const owner = await client(emb.ownerUrl);
    const rows = await owner.query<{ migration_name: string; checksum: string; finished_at: Date | null }>(
      'SELECT migration_name, checksum, finished_at FROM _prisma_migrations ORDER BY started_at',
    );
    for (const row of rows.rows) {
      const sql = readFileSync(join(migrationsDir, row.migration_name, 'migration.sql'));
      expect(row.checksum).toBe(createHash('sha256').update(sql).digest('hex'));
      expect(row.finished_at).toBeInstanceOf(Date);
    }
    const owners = await owner.query(`SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'`);
    expect(owners.rows).toEqual([{ tableowner: 'lt_owner' }]);
    const roles = await owner.query(
      `SELECT rolname, rolsuper, rolbypassrls FROM pg_roles WHERE rolname IN ('lt_owner', 'lt_app') ORDER BY 1`,
    );
    expect(roles.rows).toEqual([
      { rolname: 'lt_app', rolsuper: false, rolbypassrls: false },
      { rolname: 'lt_owner', rolsuper: false, rolbypassrls: true },
    ]);

    const app = await client(emb.appUrl);
    await expect(app.query('CREATE TABLE sneaky (id int)')).rejects.toThrow(/permission denied/);
    await expect(app.query('ALTER TABLE tenants DISABLE ROW LEVEL SECURITY')).rejects.toThrow(/must be owner/);
  });
});

describe('the services role', () => {
  it('runs as lt_app (not the PGlite superuser) and cannot switch role by SQL', async () => {
    const app = await client(emb.appUrl);
    const who = async (): Promise<unknown> =>
      (
        await app.query(
          `SELECT current_user AS "user", r.rolsuper, r.rolbypassrls, current_setting('is_superuser') AS is_superuser
             FROM pg_roles r WHERE r.rolname = current_user`,
        )
      ).rows[0];
    const asApp = { user: 'lt_app', rolsuper: false, rolbypassrls: false, is_superuser: 'off' };
    expect(await who()).toEqual(asApp);
    const attempts = [
      'RESET ROLE',
      'SET ROLE postgres',
      'set/**/role lt_owner',
      'SET SESSION AUTHORIZATION postgres',
      'RESET SESSION AUTHORIZATION',
      'SET session_authorization = postgres',
      "SELECT set_config('role', 'postgres', false)",
      "SELECT pg_catalog.set_config('role', 'lt_owner', true)",
      'DISCARD ALL',
      'RESET ALL',
    ];
    for (const sql of attempts) {
      await expect(app.query(sql), sql).rejects.toThrow(/embedded_postgres_refuses_changing_the_role/);
      expect(await who(), sql).toEqual(asApp);
    }
    // The same through the extended protocol (a parameterised statement).
    await expect(app.query('SELECT set_config($1, $2, false)', ['role', 'postgres'])).rejects.toThrow(/refuses/);
    expect(await who()).toEqual(asApp);
    // Only lt_app and lt_owner are served; the superuser is not reachable over the wire.
    const su = new pg.Client({ connectionString: emb.appUrl.replace('lt_app@', 'postgres@') });
    await expect(su.connect()).rejects.toThrow(/not served/);
  });
});

describe('concurrent clients', () => {
  /** In b's own transaction: the tenant setting it starts with, and whether it sees tenant row `id`. */
  const look = async (b: pg.Client, id: string): Promise<{ setting: string; rows: number }> => {
    await b.query('BEGIN');
    const s = await b.query<{ s: string }>(`SELECT coalesce(current_setting('app.tenant_id', true), '') AS s`);
    await b.query(`SELECT set_config('app.tenant_id', $1, true)`, [id]);
    const n = await b.query<{ n: number }>('SELECT count(*)::int AS n FROM tenants WHERE id = $1', [id]);
    await b.query('COMMIT');
    return { setting: s.rows[0]!.s, rows: n.rows[0]!.n };
  };
  const insertTenant = async (a: pg.Client, id: string): Promise<void> => {
    await a.query('BEGIN');
    await a.query(`SELECT set_config('app.tenant_id', $1, true)`, [id]);
    await a.query(`INSERT INTO tenants (id, name, slug, updated_at) VALUES ($1, 'x', $2, now())`, [id, `emb-${id}`]);
  };

  it("a client never sees another client's transaction-local tenant or its uncommitted rows", async () => {
    const a = await client(emb.appUrl);
    const b = await client(emb.appUrl);
    for (const end of ['ROLLBACK', 'COMMIT'] as const) {
      const id = randomUUID();
      await insertTenant(a, id);
      const seenByB = look(b, id);
      // b waits for a's whole transaction: a's next statements run first, b's not at all.
      expect(await stillPending(seenByB, a.query(`SELECT set_config('app.tenant_id', $1, true)`, [id]))).toBe(true);
      expect(await stillPending(seenByB, a.query(`SELECT count(*) FROM tenants`))).toBe(true);
      await a.query(end);
      // Never a's setting; a's row only once committed.
      expect(await seenByB).toEqual({ setting: '', rows: end === 'COMMIT' ? 1 : 0 });
    }
    const after = await a.query(`SELECT coalesce(current_setting('app.tenant_id', true), '') AS s`);
    expect(after.rows[0]).toEqual({ s: '' });
  });

  it('many interleaved withTenant transactions on a pool each see only their own tenant', async () => {
    const t1 = await createTestTenant(db, 'emb-c1');
    const t2 = await createTestTenant(db, 'emb-c2');
    const user = async (t: string): Promise<string> =>
      withTenant(db, t, async (tx) => {
        const u = await tx.user.create({
          data: { cognitoSub: randomUUID(), email: `${randomUUID()}@example.test`, tenantId: t, role: 'MEMBER' },
        });
        return u.id;
      });
    const users = { [t1.id]: await user(t1.id), [t2.id]: await user(t2.id) };
    const started = performance.now();
    const n = 60;
    const results = await Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const t = i % 2 === 0 ? t1.id : t2.id;
        return withTenant(
          db,
          t,
          async (tx) => {
            const s = await tx.locationSession.create({ data: { tenantId: t, userId: users[t]! } });
            // Other transactions are queued here; nothing of theirs may show up.
            const [setting] = await tx.$queryRaw<{ t: string }[]>`SELECT current_setting('app.tenant_id') AS t`;
            const visible = await tx.locationSession.findMany({ select: { tenantId: true } });
            return {
              t,
              setting: setting!.t,
              sessionTenant: s.tenantId,
              foreign: visible.filter((v) => v.tenantId !== t),
            };
            // Transactions run one at a time here: the pool's queue may wait longer than the 5 s default.
          },
          { maxWaitMs: 30_000 },
        );
      }),
    );
    const ms = performance.now() - started;
    for (const r of results) expect(r).toEqual({ t: r.t, setting: r.t, sessionTenant: r.t, foreign: [] });
    const counts = await Promise.all([t1.id, t2.id].map((t) => withTenant(db, t, (tx) => tx.locationSession.count())));
    expect(counts).toEqual([n / 2, n / 2]);
    console.log(
      `embedded postgres throughput: ${n} withTenant transactions (insert + 2 reads, pool 10) in ${Math.round(ms)} ms = ${Math.round((n / ms) * 1000)} tx/s; stats ${JSON.stringify(emb.stats())}`,
    );
  });

  it('parameterised statements of many clients outside transactions do not clobber each other', async () => {
    const clients = await Promise.all([1, 2, 3, 4].map(() => client(emb.appUrl)));
    const started = performance.now();
    const n = 400;
    const out = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        clients[i % clients.length]!.query<{ v: string }>(
          i % 2 === 0 ? 'SELECT $1::text AS v' : "SELECT 'x' || $1::text AS v",
          [String(i)],
        ),
      ),
    );
    const ms = performance.now() - started;
    out.forEach((r, i) => expect(r.rows[0]!.v).toBe(i % 2 === 0 ? String(i) : `x${i}`));
    console.log(`embedded postgres: ${n} autocommit statements on 4 clients in ${Math.round(ms)} ms`);
  });

  it("a client that disappears mid-transaction is rolled back and doesn't block the others", async () => {
    const a = new pg.Client({ connectionString: emb.appUrl });
    a.on('error', () => undefined);
    await a.connect();
    const id = randomUUID();
    await insertTenant(a, id);
    const seen = look(await client(emb.appUrl), id);
    // Kill a's socket without ROLLBACK or Terminate.
    (a as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
    expect(await seen).toEqual({ setting: '', rows: 0 });
    await a.end().catch(() => undefined);
  });

  it('two outbox relays (advisory xact lock + FOR UPDATE SKIP LOCKED) never claim the same event', async () => {
    const t = await createTestTenant(db, 'emb-relay');
    const ids = await withTenant(db, t.id, async (tx) => {
      const created: string[] = [];
      for (let i = 0; i < 30; i++) {
        const row = await tx.outbox.create({
          data: { tenantId: t.id, topic: 'session-events', key: `${t.id}:k`, type: 'x.v1', payload: { i } },
        });
        created.push(row.id);
      }
      return created;
    });
    const relay = async (c: pg.Client): Promise<string[]> => {
      const claimed: string[] = [];
      for (let round = 0; round < 50; round++) {
        await c.query('BEGIN');
        const { rows } = await c.query<{ id: string }>('SELECT id FROM app_outbox_claim(4, $1::uuid[])', [[t.id]]);
        await c.query('SELECT app_outbox_mark_sent($1::uuid[])', [rows.map((r) => r.id)]);
        await c.query('COMMIT');
        claimed.push(...rows.map((r) => r.id));
        if (rows.length === 0) break;
      }
      return claimed;
    };
    const [r1, r2] = await Promise.all([relay(await client(emb.appUrl)), relay(await client(emb.appUrl))]);
    expect([...r1!, ...r2!].sort()).toEqual([...ids].sort());
    const left = await withTenant(db, t.id, (tx) => tx.outbox.count({ where: { sentAt: null } }));
    expect(left).toBe(0);
  });

  it('reports a connection kept waiting by another transaction (a nested-transaction deadlock)', async () => {
    const a = await client(emb.appUrl);
    const b = await client(emb.appUrl);
    const warned = new Promise((resolve) => (onWarn = resolve));
    await a.query('BEGIN');
    // As if code inside a's transaction queried through another connection and awaited it.
    const nested = b.query('SELECT 1 AS one');
    expect(await warned).toMatchObject({ holderRole: 'lt_app', waitedMs: 300 });
    onWarn = undefined;
    await a.query('ROLLBACK');
    expect((await nested).rows).toEqual([{ one: 1 }]);
  });
});
