/**
 * Domain events (README, "Events and streaming"): the Kafka topics, the JSON envelope, and the one way to emit an
 * event — an outbox row written in the caller's transaction, relayed to Kafka later.
 */
export { Topic, type TopicName, type EventEnvelope, type EventType, eventKey } from './envelope';
export { appendOutbox, type OutboxEvent } from './outbox';
