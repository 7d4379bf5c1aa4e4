import type pg from 'pg';
import { isUuid } from '@lt/context';
import { withRawTransaction, type Db } from '@lt/db';

/**
 * What the data functions of the point transaction need from a transaction: a Prisma transaction
 * client has it, and so has {@link RawTx} (node-postgres). Results are node-postgres's or Prisma's
 * row objects: timestamptz → Date, float8/int4 → number, json → parsed; an int8 or numeric column
 * is a bigint with Prisma and a string with node-postgres (read such columns with Number/BigInt,
 * or cast them to text).
 */
export interface Sql {
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Promise<T>;
  $executeRawUnsafe(query: string, ...values: unknown[]): Promise<number>;
}

/** A transaction on a node-postgres connection, with named (per-connection prepared) statements. */
export interface RawTx extends Sql {
  /**
   * Runs `text` as a named prepared statement: parsed and planned once per connection, then only
   * bound and executed. `name` identifies `text` (one name, one text).
   */
  prepared<R>(name: string, text: string, values: unknown[]): Promise<R[]>;
}

/** Connection ids, so a statement name is unique per connection (an embedded database shares one session). */
const connectionIds = new WeakMap<pg.PoolClient, number>();
let nextConnectionId = 0;

function txOf(c: pg.PoolClient): RawTx {
  let id = connectionIds.get(c);
  if (id === undefined) connectionIds.set(c, (id = ++nextConnectionId));
  const suffix = `_${id}`;
  return {
    async $queryRawUnsafe<T>(query: string, ...values: unknown[]): Promise<T> {
      return (await c.query(query, values)).rows as T;
    },
    async $executeRawUnsafe(query: string, ...values: unknown[]): Promise<number> {
      return (await c.query(query, values)).rowCount ?? 0;
    },
    async prepared<R>(name: string, text: string, values: unknown[]): Promise<R[]> {
      return (await c.query({ name: name + suffix, text, values })).rows as R[];
    },
  };
}

/** A transaction that outlives this (a stuck caller) is ended by the server, ms. */
const IDLE_IN_TRANSACTION_MS = 30_000;

/**
 * `withTenant` on a connection of `rawPool(db)` (node-postgres, no Prisma: its interactive
 * transaction and per-value encoding and decoding cost more than the statements on hot paths).
 * Same role, same forced row-level security: `app.tenant_id` is set transaction-locally exactly as
 * `withTenant` sets it, in the same round trip as BEGIN (the id is a validated UUID, so it is safe
 * as a literal). Every statement is bounded by the pool's `statement_timeout`, the transaction by
 * `idle_in_transaction_session_timeout`.
 */
export async function withTenantRaw<T>(db: Db, tenantId: string, work: (tx: RawTx) => Promise<T>): Promise<T> {
  // No default tenant, ever: a missing or malformed id is a programming error, not "all tenants".
  if (!isUuid(tenantId)) throw new TypeError('withTenantRaw: tenantId must be a UUID');
  return withRawTransaction(db, tenantId, (c) => work(txOf(c)), { idleInTransactionMs: IDLE_IN_TRANSACTION_MS });
}
