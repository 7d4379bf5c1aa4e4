/** Offline migrations: empty database → applied; second run → no-op; rows in Prisma's format. */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { listMigrations, setupDatabase } from '@lt/db';
import { testEnv, uniqueName } from '@lt/testing';

const dir = fileURLToPath(new URL('../migrations', import.meta.url));
const database = uniqueName('lt_mig').replace(/-/g, '_');

afterAll(async () => {
  const admin = new pg.Client({ connectionString: testEnv().adminDatabaseUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
  await admin.end();
});

describe('offline migrator', () => {
  it('applies every migration to an empty database, then is a no-op, recording Prisma-compatible rows', async () => {
    const opts = {
      adminUrl: testEnv().adminDatabaseUrl,
      database,
      ownerPassword: 'lt_owner_dev',
      appPassword: 'lt_app_dev',
      migrationsDir: dir,
    };
    const names = listMigrations(dir).map((m) => m.name);
    expect(names.length).toBeGreaterThan(0);

    const first = await setupDatabase(opts);
    expect(first.applied).toEqual(names);
    const second = await setupDatabase(opts);
    expect(second.applied).toEqual([]);
    expect(second.skipped).toEqual(names);

    const client = new pg.Client({ connectionString: first.ownerUrl });
    await client.connect();
    try {
      const cols = await client.query<{ column_name: string; data_type: string; is_nullable: string }>(
        `SELECT column_name, data_type, is_nullable FROM information_schema.columns
          WHERE table_name = '_prisma_migrations' ORDER BY ordinal_position`,
      );
      // Prisma's migrate engine creates exactly these columns (prisma/prisma-engines, schema-engine).
      expect(cols.rows.map((c) => [c.column_name, c.data_type, c.is_nullable])).toEqual([
        ['id', 'character varying', 'NO'],
        ['checksum', 'character varying', 'NO'],
        ['finished_at', 'timestamp with time zone', 'YES'],
        ['migration_name', 'character varying', 'NO'],
        ['logs', 'text', 'YES'],
        ['rolled_back_at', 'timestamp with time zone', 'YES'],
        ['started_at', 'timestamp with time zone', 'NO'],
        ['applied_steps_count', 'integer', 'NO'],
      ]);
      const rows = await client.query<{
        id: string;
        checksum: string;
        migration_name: string;
        finished_at: Date | null;
        applied_steps_count: number;
      }>(
        'SELECT id, checksum, migration_name, finished_at, applied_steps_count FROM _prisma_migrations ORDER BY started_at',
      );
      expect(rows.rows).toHaveLength(names.length);
      for (const row of rows.rows) {
        const sql = readFileSync(`${dir}/${row.migration_name}/migration.sql`);
        expect(row.checksum).toBe(createHash('sha256').update(sql).digest('hex'));
        expect(row.id).toMatch(/^[0-9a-f-]{36}$/);
        expect(row.finished_at).toBeInstanceOf(Date);
        expect(row.applied_steps_count).toBe(1);
      }
      // The owner owns the tables; the services' role has no DDL rights.
      const owner = await client.query<{ tableowner: string }>(
        `SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'`,
      );
      expect(owner.rows).toEqual([{ tableowner: 'lt_owner' }]);
    } finally {
      await client.end();
    }

    const app = new pg.Client({ connectionString: first.appUrl });
    await app.connect();
    try {
      await expect(app.query('CREATE TABLE sneaky (id int)')).rejects.toThrow(/permission denied/);
      await expect(app.query('ALTER TABLE tenants DISABLE ROW LEVEL SECURITY')).rejects.toThrow(/must be owner/);
    } finally {
      await app.end();
    }
  });
});
