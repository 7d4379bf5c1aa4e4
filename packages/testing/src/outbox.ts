import { withTenant, type Db } from '@lt/db';

/**
 * The tenant's unsent outbox rows (ids), as the relay sees them: not marked sent and not passed by
 * a relay cursor of a scope the tenant belongs to (app_outbox_unsent). Read in the tenant's
 * transaction, so only its own rows.
 */
export async function unsentOutboxIds(db: Db, tenantId: string): Promise<string[]> {
  const rows = await withTenant(
    db,
    tenantId,
    (tx) => tx.$queryRaw<{ id: string }[]>`SELECT id::text FROM app_outbox_unsent(app_current_tenant())`,
  );
  return rows.map((r) => r.id);
}

/** How many of the tenant's outbox rows are unsent (see unsentOutboxIds). */
export async function unsentOutboxCount(db: Db, tenantId: string): Promise<number> {
  return (await unsentOutboxIds(db, tenantId)).length;
}
