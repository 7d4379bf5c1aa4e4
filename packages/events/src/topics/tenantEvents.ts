import { TenantStatus } from '@lt/context';
import { eventKey } from '../envelope';
import type { OutboxEvent } from '../outbox';
import { invalid, obj, str, valid, type Validation } from '../validate';

/** `tenant-events`: a tenant was created, changed, suspended or reactivated; keyed by the tenant. */
export const name = 'tenant-events';
export const types = [
  'tenant.created.v1',
  'tenant.updated.v1',
  'tenant.suspended.v1',
  'tenant.reactivated.v1',
] as const;
export type TenantEventType = (typeof types)[number];

export const key = (tenantId: string): string => eventKey(tenantId);

/** Payload of every `tenant.*.v1` event: the tenant as it is after the change. */
export interface TenantEventData extends Record<string, unknown> {
  id: string;
  name: string;
  slug: string;
  status: TenantStatus;
  /** Fields that changed (tenant.updated.v1 only). */
  changed?: string[];
}

/** What the builder reads from a tenant. */
export interface TenantLike {
  id: string;
  name: string;
  slug: string;
  status: TenantStatus;
  updatedAt: Date;
}

/** Builder: a tenant after the change -> its payload. */
export function payload(tenant: TenantLike, changed?: string[]): TenantEventData {
  const data: TenantEventData = { id: tenant.id, name: tenant.name, slug: tenant.slug, status: tenant.status };
  if (changed) data.changed = changed;
  return data;
}

/** The outbox event of a tenant change, at the tenant's `updatedAt`. */
export function event(type: TenantEventType, tenant: TenantLike, changed?: string[]): OutboxEvent {
  return { topic: name, type, tenantId: tenant.id, data: payload(tenant, changed), occurredAt: tenant.updatedAt };
}

const STATUSES: readonly unknown[] = Object.values(TenantStatus);

/** Validator: unknown -> a tenant event payload (extra keys are dropped). */
export function validate(data: unknown): Validation<TenantEventData> {
  if (!obj(data)) return invalid('tenant event: not an object');
  const { id, name: tenantName, slug, status, changed } = data;
  if (!str(id)) return invalid('tenant event.id: expected an id');
  if (!str(tenantName)) return invalid('tenant event.name: expected a string');
  if (!str(slug)) return invalid('tenant event.slug: expected a string');
  if (!STATUSES.includes(status)) return invalid('tenant event.status: expected a tenant status');
  const out: TenantEventData = { id, name: tenantName, slug, status: status as TenantStatus };
  if (changed !== undefined) {
    if (!Array.isArray(changed) || changed.length > 50 || !changed.every(str))
      return invalid('tenant event.changed: expected a list of field names');
    out.changed = changed as string[];
  }
  return valid(out);
}
