import { withSystem, withTenant, type Db, type StreamSinkModel } from '@lt/db';
import { notFound } from '@lt/errors';
import { findSink, findSinks, listSinks } from '../data/sinks';

/** The tenant's sinks. */
export const listTenantSinks = (db: Db, tenantId: string) => withTenant(db, tenantId, (tx) => listSinks(tx));

/** The tenant's sink `id`, else null. */
export const getSink = (db: Db, tenantId: string, id: string) => withTenant(db, tenantId, (tx) => findSink(tx, id));

/** The tenant's sinks among `ids`. */
export const getSinks = (db: Db, tenantId: string, ids: readonly string[]) =>
  withTenant(db, tenantId, (tx) => findSinks(tx, ids));

/** The tenant's sink `id`, else NOT_FOUND. */
export async function mustFindSink(db: Db, tenantId: string, id: string): Promise<StreamSinkModel> {
  const sink = await getSink(db, tenantId, id);
  if (!sink) throw notFound('StreamSink', 'id');
  return sink;
}

/** Unsent outbox rows: the tenant's (RLS), or every tenant's for the platform (`tenantId` null). */
export async function outboxBacklog(
  db: Db,
  tenantId: string | null,
): Promise<{ unsent: number; oldestUnsentAt: Date | null }> {
  if (tenantId === null) {
    const rows = await withSystem(
      db,
      (tx) => tx.$queryRaw<{ unsent: bigint; oldest_unsent_at: Date | null }[]>`SELECT * FROM app_outbox_backlog()`,
    );
    return { unsent: Number(rows[0]?.unsent ?? 0), oldestUnsentAt: rows[0]?.oldest_unsent_at ?? null };
  }
  // The relay's cursor decides what is sent (app_outbox_unsent); the tenant is the transaction's.
  const rows = await withTenant(
    db,
    tenantId,
    (tx) => tx.$queryRaw<{ unsent: bigint; oldest_unsent_at: Date | null }[]>`
      SELECT count(*) AS unsent, min(u.created_at) AS oldest_unsent_at FROM app_outbox_unsent(app_current_tenant()) u`,
  );
  return { unsent: Number(rows[0]?.unsent ?? 0), oldestUnsentAt: rows[0]?.oldest_unsent_at ?? null };
}
