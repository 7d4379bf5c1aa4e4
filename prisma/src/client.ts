import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { isUuid } from '@lt/context';
import { PrismaClient } from '../generated/client';

export type Db = PrismaClient;

export interface CreateDbOptions {
  /** Connection string of the services' role (lt_app). Never the owner's: the owner bypasses RLS. */
  url: string;
  /** Pool size. Default 10. */
  max?: number;
  /** Connect timeout, ms. Default 5_000. */
  connectionTimeoutMs?: number;
  /** Per-statement timeout, ms. Default 15_000. */
  statementTimeoutMs?: number;
}

const optionsOf = new WeakMap<Db, CreateDbOptions>();
const rawPools = new WeakMap<Db, pg.Pool>();

/** Creates a Prisma client over node-postgres. Callers own it and must `$disconnect()` it on stop. */
export function createDb(options: CreateDbOptions): Db {
  const adapter = new PrismaPg({
    connectionString: options.url,
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 5_000,
    statement_timeout: options.statementTimeoutMs ?? 15_000,
  });
  const db = new PrismaClient({ adapter });
  optionsOf.set(db, options);
  return db;
}

/**
 * A small node-postgres pool on the same role and database as `db`, for hot paths that move
 * thousands of rows per statement (the Prisma client's per-value encoding and decoding dominate
 * there). Same role, so the same row-level security; made on first use, one per `db`; its idle
 * connections do not keep the process alive. `closeRawPool(db)` ends it.
 */
export function rawPool(db: Db): pg.Pool {
  let pool = rawPools.get(db);
  if (pool) return pool;
  const o = optionsOf.get(db);
  if (!o) throw new Error('rawPool: db was not made by createDb');
  pool = new pg.Pool({
    connectionString: o.url,
    max: 8,
    connectionTimeoutMillis: o.connectionTimeoutMs ?? 5_000,
    statement_timeout: o.statementTimeoutMs ?? 15_000,
    allowExitOnIdle: true,
  });
  // An idle connection dropped by the server (restart, dropped database) is simply replaced.
  pool.on('error', () => undefined);
  rawPools.set(db, pool);
  return pool;
}

/** Ends `rawPool(db)` if it was made. */
export async function closeRawPool(db: Db): Promise<void> {
  const pool = rawPools.get(db);
  rawPools.delete(db);
  await pool?.end();
}

/**
 * Runs `work` in one transaction on a connection of `rawPool(db)` (node-postgres, no Prisma), with
 * `app.tenant_id` set transaction-locally when a tenant is given, exactly as `withTenant` sets it:
 * same role, same forced row-level security. Without a tenant only the SECURITY DEFINER functions
 * see rows (as in `withSystem`). BEGIN, the tenant and the idle-in-transaction bound go in one round
 * trip (the id is a validated UUID, so it is safe as a literal). A connection whose ROLLBACK fails
 * is discarded, not returned to the pool.
 */
export async function withRawTransaction<T>(
  db: Db,
  tenantId: string | null,
  work: (c: pg.PoolClient) => Promise<T>,
  options: { idleInTransactionMs?: number } = {},
): Promise<T> {
  // No default tenant from a bad id: a malformed id is a programming error, not "all tenants".
  if (tenantId !== null && !isUuid(tenantId)) throw new TypeError('withRawTransaction: tenantId must be a UUID');
  const c = await rawPool(db).connect();
  let broken = false;
  try {
    await c.query(
      'BEGIN' +
        (tenantId ? `; SELECT set_config('app.tenant_id', '${tenantId}', true)` : '') +
        (options.idleInTransactionMs
          ? `; SET LOCAL idle_in_transaction_session_timeout = ${Math.floor(options.idleInTransactionMs)}`
          : ''),
    );
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
