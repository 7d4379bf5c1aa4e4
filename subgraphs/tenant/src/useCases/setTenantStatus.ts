import type { TenantStatus } from '@lt/context';
import type { Db } from '@lt/db';
import { notFound } from '@lt/errors';
import { appendOutbox } from '@lt/events';
import type { IdentityInvalidation } from '@lt/identity';
import type { Logger } from '@lt/logger';
import { runIn } from '../data/scope';
import { findTenant, transitionStatus, type TenantRow } from '../data/tenants';
import { tenantEvent, type TenantEventType } from '../events/tenantEvents';

const STATUS_EVENT: Record<TenantStatus, TenantEventType> = {
  SUSPENDED: 'tenant.suspended.v1',
  ACTIVE: 'tenant.reactivated.v1',
};

/**
 * Suspends or reactivates a tenant (platform scope): the transition and its outbox row in one
 * transaction, then the announcement to every router replica. Idempotent: a tenant already in
 * `to` is returned unchanged, without an event, but announced again (repeating the mutation is
 * how an operator re-sends a lost announcement). NOT_FOUND for an unknown id.
 */
export async function setTenantStatus(
  deps: { db: Db; identity: IdentityInvalidation; log: Logger },
  id: string,
  to: TenantStatus,
): Promise<TenantRow> {
  const from: TenantStatus = to === 'ACTIVE' ? 'SUSPENDED' : 'ACTIVE';
  const { tenant, changed } = await runIn(deps.db, { kind: 'platform', tenantId: id }, async (tx) => {
    const changed = await transitionStatus(tx, id, from, to);
    const tenant = await findTenant(tx, id);
    if (!tenant) throw notFound('Tenant', 'id');
    if (changed) await appendOutbox(tx, [tenantEvent(STATUS_EVENT[to], tenant)]);
    return { tenant, changed };
  });
  await announceStatus(deps.identity, id, to, deps.log);
  deps.log.info('tenant status set', { tenantId: id, status: to, changed });
  return tenant;
}

/**
 * Tells every router replica, after the commit, that a tenant's status changed (they refuse its
 * tokens / drop cached memberships). The change is already committed, so a failing bus is logged,
 * not thrown: the router's membership cache expiry is the backstop, and repeating the mutation
 * publishes again.
 */
export async function announceStatus(
  identity: IdentityInvalidation,
  tenantId: string,
  status: TenantStatus,
  log: Logger,
  timeoutMs = 2_000,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      identity.publish({ type: 'tenant.status', tenantId, status }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`identity publish timed out after ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } catch (err) {
    log.error('tenant status not announced to routers', { tenantId, status, err });
  } finally {
    clearTimeout(timer);
  }
}
