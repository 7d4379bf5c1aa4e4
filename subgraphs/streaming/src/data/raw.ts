import type pg from 'pg';
import { rawPool, type Db } from '@lt/db';

/**
 * Runs `work` in one transaction on a connection of `rawPool(db)` (node-postgres, no Prisma),
 * with `app.tenant_id` set when a tenant is given: row-level security applies as in withTenant.
 * Without a tenant only the SECURITY DEFINER functions see rows (as in withSystem).
 */
export async function withRaw<T>(db: Db, tenantId: string | null, work: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const c = await rawPool(db).connect();
  let broken = false;
  try {
    await c.query('BEGIN');
    if (tenantId) await c.query(`SELECT set_config('app.tenant_id', $1, true)`, [tenantId]);
    const result = await work(c);
    await c.query('COMMIT');
    return result;
  } catch (err) {
    await c.query('ROLLBACK').catch(() => (broken = true));
    throw err;
  } finally {
    c.release(broken);
  }
}

/** One statement outside a transaction on `rawPool(db)` (SECURITY DEFINER functions). */
export async function rawQuery<R extends pg.QueryResultRow>(db: Db, sql: string, params: unknown[]): Promise<R[]> {
  return (await rawPool(db).query<R>(sql, params)).rows;
}
