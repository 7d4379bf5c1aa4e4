import { randomUUID } from 'node:crypto';
import type { Db } from '@lt/db';
import { appendOutbox } from '@lt/events';
import { runIn } from '../data/scope';
import { insertTenant, slugConflict, type TenantRow } from '../data/tenants';
import { tenantEvent } from '../events/tenantEvents';

/** Creates a tenant and its `tenant.created.v1` outbox row in one transaction; CONFLICT on a taken slug. */
export async function createTenant(db: Db, input: { name: string; slug: string }): Promise<TenantRow> {
  // The id is chosen here so the transaction can also set it as the tenant (outbox rows are RLS'd).
  const id = randomUUID();
  return runIn(db, { kind: 'platform', tenantId: id }, async (tx) => {
    const tenant = await insertTenant(tx, { id, ...input });
    await appendOutbox(tx, [tenantEvent('tenant.created.v1', tenant)]);
    return tenant;
  }).catch(slugConflict);
}
