import type pg from 'pg';
import { rawPool, withRawTransaction, type Db } from '@lt/db';

/**
 * Runs `work` in one transaction on a connection of `rawPool(db)` (node-postgres, no Prisma),
 * with `app.tenant_id` set when a tenant is given: row-level security applies as in withTenant.
 * Without a tenant only the SECURITY DEFINER functions see rows (as in withSystem).
 * `idleInTransactionMs` bounds the time the transaction may sit idle, set with BEGIN.
 */
export function withRaw<T>(
  db: Db,
  tenantId: string | null,
  work: (c: pg.PoolClient) => Promise<T>,
  options: { idleInTransactionMs?: number } = {},
): Promise<T> {
  return withRawTransaction(db, tenantId, work, options);
}

/** One statement outside a transaction on `rawPool(db)` (SECURITY DEFINER functions). */
export async function rawQuery<R extends pg.QueryResultRow>(db: Db, sql: string, params: unknown[]): Promise<R[]> {
  return (await rawPool(db).query<R>(sql, params)).rows;
}
