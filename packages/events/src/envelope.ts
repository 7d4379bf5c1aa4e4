/** Kafka topics of the original system, plus the dead-letter topic for exhausted deliveries. */
export const Topic = {
  LOCATION_UPDATES: 'location-updates',
  SESSION_EVENTS: 'session-events',
  TENANT_EVENTS: 'tenant-events',
  /** ENTER / EXIT / DWELL transitions, key `tenantId:sessionId`. */
  GEOFENCE_EVENTS: 'geofence-events',
  DEAD_LETTERS: 'webhook-dead-letters',
} as const;
export type TopicName = (typeof Topic)[keyof typeof Topic];

/** Versioned event types. A breaking payload change gets a new version, never an edit. */
export type EventType =
  | 'location.recorded.v1'
  | 'session.started.v1'
  | 'session.ended.v1'
  | 'geofence.entered.v1'
  | 'geofence.exited.v1'
  | 'geofence.dwelled.v1'
  | 'tenant.created.v1'
  | 'tenant.updated.v1'
  | 'tenant.suspended.v1'
  | 'tenant.reactivated.v1'
  | 'webhook.test.v1'
  /** A delivery exhausted its retries (`webhook-dead-letters`, key `tenantId:sinkId`). */
  | 'webhook.dead-lettered.v1';

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
