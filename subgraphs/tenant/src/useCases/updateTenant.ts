import type { Db } from '@lt/db';
import { notFound, unauthenticated } from '@lt/errors';
import { appendOutbox } from '@lt/events';
import { runIn, type Scope } from '../data/scope';
import { findTenant, slugConflict, updateTenantFields, type TenantRow } from '../data/tenants';
import { tenantEvent } from '../events/tenantEvents';
import type { TenantChanges } from '../validation';

/**
 * Applies `changes` and writes the `tenant.updated.v1` outbox row (naming the changed fields) in
 * one transaction. NOT_FOUND when the tenant is not visible in `scope`; no event when nothing
 * actually changed; CONFLICT on a taken slug.
 */
export async function updateTenant(
  db: Db,
  scope: Scope & { tenantId: string },
  changes: TenantChanges,
): Promise<TenantRow> {
  return runIn(db, scope, async (tx) => {
    const before = await findTenant(tx, scope.tenantId);
    if (!before) throw notFound('Tenant', 'id');
    // The caller's signed membership may be up to a few seconds old: the row decides.
    if (scope.kind === 'tenant' && before.status === 'SUSPENDED') throw unauthenticated('Tenant is suspended');
    const changed = (Object.keys(changes) as (keyof typeof changes)[]).filter((k) => changes[k] !== before[k]);
    if (changed.length === 0) return before;
    const tenant = await updateTenantFields(tx, before.id, changes);
    await appendOutbox(tx, [tenantEvent('tenant.updated.v1', tenant, changed)]);
    return tenant;
  }).catch(slugConflict);
}
