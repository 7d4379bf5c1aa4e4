/** The event-log port (Kafka or in-process) the streaming pipeline runs on. */
export type * from './types';
export { createKafkaEventLog, type KafkaEventLogOptions } from './kafkaEventLog';
export { createMemoryEventLog, type MemoryEventLogOptions } from './memoryEventLog';
