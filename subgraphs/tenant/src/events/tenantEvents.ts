import { tenantEvents, type OutboxEvent } from '@lt/events';
import type { TenantRow } from '../data/tenants';

export type TenantEventType = tenantEvents.TenantEventType;

/** The outbox row for a tenant change, on `tenant-events`, keyed by the tenant. */
export function tenantEvent(type: TenantEventType, tenant: TenantRow, changed?: string[]): OutboxEvent {
  return tenantEvents.event(type, tenant, changed);
}
