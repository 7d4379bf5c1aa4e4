/** The event-log port (Kafka or in-process) the streaming pipeline runs on. */
export type {
  BatchContext,
  ConsumeOptions,
  EventLog,
  LogBatch,
  LogConsumer,
  LogMessage,
  LogProducer,
  LogStatus,
  OutgoingMessage,
  TopicMessages,
} from './types';
export { createKafkaEventLog, type KafkaEventLogOptions } from './kafkaEventLog';
export { createMemoryEventLog, type MemoryEventLogOptions } from './memoryEventLog';
