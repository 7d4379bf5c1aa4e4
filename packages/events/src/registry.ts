import { validateEnvelopeShape, type EventEnvelope } from './envelope';
import * as deadLetters from './topics/deadLetters';
import * as geofenceEvents from './topics/geofenceEvents';
import * as locationUpdates from './topics/locationUpdates';
import * as sessionEvents from './topics/sessionEvents';
import * as tenantEvents from './topics/tenantEvents';
import { invalid, valid, type Validation } from './validate';

/**
 * What every topic module exports: its name, the event types it carries, how its Kafka key is
 * built, and the validator of its payload.
 */
export interface TopicContract<P = unknown> {
  readonly name: string;
  readonly types: readonly string[];
  key(tenantId: string, entityId: string): string;
  validate(data: unknown): Validation<P>;
}

/** Every topic's contract, by name: the one registry producers, the relay and consumers share. */
export const topics = {
  [locationUpdates.name]: locationUpdates,
  [sessionEvents.name]: sessionEvents,
  [tenantEvents.name]: tenantEvents,
  [geofenceEvents.name]: geofenceEvents,
  [deadLetters.name]: deadLetters,
} as const satisfies Record<string, TopicContract>;

/** Kafka topics of the original system, plus the dead-letter topic for exhausted deliveries. */
export const Topic = {
  LOCATION_UPDATES: locationUpdates.name,
  SESSION_EVENTS: sessionEvents.name,
  TENANT_EVENTS: tenantEvents.name,
  /** ENTER / EXIT / DWELL transitions, key `tenantId:sessionId`. */
  GEOFENCE_EVENTS: geofenceEvents.name,
  DEAD_LETTERS: deadLetters.name,
} as const;
export type TopicName = keyof typeof topics;

/** An event type carried on a topic. */
export type TopicEventType = (typeof topics)[TopicName]['types'][number];

/**
 * Versioned event types. A breaking payload change gets a new version, never an edit.
 * `webhook.test.v1` is sent to one sink directly (sendTestEvent), on no topic.
 */
export type EventType = TopicEventType | 'webhook.test.v1';

const TOPIC_OF_TYPE = new Map<string, TopicName>(
  Object.values(topics).flatMap((t) => t.types.map((type) => [type, t.name] as const)),
);

/** The topic an event type is carried on (undefined: not a topic event). */
export function topicOfType(type: string): TopicName | undefined {
  return TOPIC_OF_TYPE.get(type);
}

/**
 * The envelope gate for event-log messages: uuid id and tenant, ISO time, object data, and a type
 * the registry knows (on `topic`, when given). The payload itself is not checked (see
 * `validateEvent`): consumers forward `data` as it was written.
 */
export function validateEnvelope(v: unknown, topic?: TopicName): Validation<EventEnvelope> {
  const shape = validateEnvelopeShape(v);
  if (!shape.ok) return shape;
  const of = topicOfType(shape.value.type);
  if (!of) return invalid(`envelope.type: unknown event type`);
  if (topic !== undefined && of !== topic) return invalid(`envelope.type: not an event of ${topic}`);
  return shape;
}

/** The envelope gate plus the payload validator of the event's topic. */
export function validateEvent(v: unknown, topic?: TopicName): Validation<EventEnvelope> {
  const envelope = validateEnvelope(v, topic);
  if (!envelope.ok) return envelope;
  const data = topics[topicOfType(envelope.value.type)!].validate(envelope.value.data);
  if (!data.ok) return data;
  return valid({ ...envelope.value, data: data.value as unknown as Record<string, unknown> });
}
