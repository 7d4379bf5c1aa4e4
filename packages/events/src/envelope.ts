import { isUuid } from '@lt/context';
import type { EventType } from './registry';
import { invalid, obj, valid, type Validation } from './validate';

/** The JSON message on every topic. `id` is unique; consumers deduplicate by it. */
export interface EventEnvelope<T = Record<string, unknown>> {
  id: string;
  type: EventType;
  tenantId: string;
  /** ISO-8601. */
  occurredAt: string;
  data: T;
}

/**
 * Kafka message key. Tenant first, always (as in every channel and cache key). `location-updates`, `session-events` and `geofence-events`
 * use `tenantId:sessionId` so one session's events stay in one partition, in order.
 */
export function eventKey(tenantId: string, entityId?: string): string {
  return entityId ? `${tenantId}:${entityId}` : tenantId;
}

/**
 * The envelope's own fields (uuid id and tenant, ISO time, object data); `type` is only checked to
 * be a string here; the registry checks it names a known event.
 */
export function validateEnvelopeShape(v: unknown): Validation<EventEnvelope<Record<string, unknown>>> {
  if (!obj(v)) return invalid('envelope: not an object');
  if (typeof v['id'] !== 'string' || !isUuid(v['id'])) return invalid('envelope.id: expected a uuid');
  if (typeof v['tenantId'] !== 'string' || !isUuid(v['tenantId'])) return invalid('envelope.tenantId: expected a uuid');
  if (typeof v['type'] !== 'string') return invalid('envelope.type: expected a string');
  if (typeof v['occurredAt'] !== 'string' || Number.isNaN(Date.parse(v['occurredAt'])))
    return invalid('envelope.occurredAt: expected ISO-8601');
  if (!obj(v['data'])) return invalid('envelope.data: expected an object');
  return valid(v as unknown as EventEnvelope<Record<string, unknown>>);
}
