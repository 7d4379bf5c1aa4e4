/**
 * Domain events (README, "Events and streaming"): every topic's contract (name, key, event types,
 * payload type, builder, validator) in one registry, the JSON envelope, the one way to emit an
 * event — an outbox row written in the caller's transaction, relayed to Kafka later — and the live
 * events the location subgraph announces on each tenant's pub/sub channel.
 */
export { type EventEnvelope, eventKey, validateEnvelopeShape } from './envelope';
export {
  topics,
  Topic,
  topicOfType,
  validateEnvelope,
  validateEvent,
  type TopicContract,
  type TopicName,
  type TopicEventType,
  type EventType,
} from './registry';
export { appendOutbox, type OutboxEvent } from './outbox';
export { type Validation } from './validate';
export {
  POINT_FIELDS,
  POINT_FIELD_NAMES,
  pointSelect,
  pointColumnsSql,
  pointPayload,
  validatePoint,
  pointJsonArgsSql,
  type PointField,
  type PointPayload,
  type PointRecord,
} from './point';
export * as locationUpdates from './topics/locationUpdates';
export * as sessionEvents from './topics/sessionEvents';
export * as tenantEvents from './topics/tenantEvents';
export * as geofenceEvents from './topics/geofenceEvents';
export * as deadLetters from './topics/deadLetters';
export type { LocationRecordedV1 } from './topics/locationUpdates';
export type { SessionEventV1 } from './topics/sessionEvents';
export type { TenantEventData } from './topics/tenantEvents';
export type { GeofenceEventV1 } from './topics/geofenceEvents';
export type { DeadLetterV1 } from './topics/deadLetters';
export {
  encodeLiveEvent,
  parseLiveEvent,
  liveSessionState,
  LIVE_PAYLOAD_MAX_POINTS,
  type LiveEvent,
  type LivePoint,
  type LiveSessionState,
} from './live';
