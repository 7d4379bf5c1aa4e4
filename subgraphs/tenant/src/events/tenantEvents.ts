import type { TenantStatus } from '@lt/context';
import { tenantEvents, type OutboxEvent } from '@lt/events';
import type { IdentityInvalidation } from '@lt/identity';
import type { Logger } from '@lt/logger';
import type { TenantRow } from '../data/tenants';

export type TenantEventType = tenantEvents.TenantEventType;

/** The outbox row for a tenant change, on `tenant-events`, keyed by the tenant. */
export function tenantEvent(type: TenantEventType, tenant: TenantRow, changed?: string[]): OutboxEvent {
  return tenantEvents.event(type, tenant, changed);
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
