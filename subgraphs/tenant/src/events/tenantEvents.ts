import type { TenantStatus } from '@lt/context';
import { Topic, type EventType, type OutboxEvent } from '@lt/events';
import type { TenantRow } from '../data/tenants';

/** Payload of every `tenant.*.v1` event: the tenant as it is after the change. */
export interface TenantEventData extends Record<string, unknown> {
  id: string;
  name: string;
  slug: string;
  status: TenantStatus;
  /** Fields that changed (tenant.updated.v1 only). */
  changed?: string[];
}

export type TenantEventType = Extract<EventType, `tenant.${string}`>;

/** The outbox row for a tenant change, on `tenant-events`, keyed by the tenant. */
export function tenantEvent(type: TenantEventType, tenant: TenantRow, changed?: string[]): OutboxEvent {
  const data: TenantEventData = { id: tenant.id, name: tenant.name, slug: tenant.slug, status: tenant.status };
  if (changed) data.changed = changed;
  return { topic: Topic.TENANT_EVENTS, type, tenantId: tenant.id, data, occurredAt: tenant.updatedAt };
}
