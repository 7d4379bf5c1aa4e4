/**
 * The event-log port: what the streaming pipeline needs from Kafka, small enough that an in-process
 * stand-in can honour it too. Both implementations run the same contract suite
 * (test/eventLog.contract.int.test.ts).
 *
 * Guarantees: messages with the same key on the same topic are delivered in the order they were
 * sent; delivery is at-least-once: a consumer group's offset moves only over messages a handler
 * resolved, so a handler failure (or a crash) means redelivery from the first unresolved message.
 */

/** One message to publish. The key decides the partition (same key → same partition → order kept). */
export interface OutgoingMessage {
  key: string;
  value: string;
  headers?: Record<string, string>;
}

/** A message as a consumer sees it. */
export interface LogMessage {
  topic: string;
  partition: number;
  /** Position in its partition (a decimal string, as Kafka's are). */
  offset: string;
  key: string;
  value: string;
  headers: Record<string, string>;
}

export interface TopicMessages {
  topic: string;
  messages: OutgoingMessage[];
}

/**
 * Publishes messages. `send` resolves once the log has them (Kafka: acknowledged by all in-sync
 * replicas), never once consumers handled them.
 */
export interface LogProducer {
  send(topic: string, messages: OutgoingMessage[]): Promise<void>;
  /** Several topics in one request; each topic's messages keep their order. */
  sendBatch(batch: TopicMessages[]): Promise<void>;
  /** Flushes and disconnects; a later `send` reconnects. */
  stop(): Promise<void>;
}

/** One partition's worth of messages handed to `eachBatch`, in offset order. */
export interface LogBatch {
  topic: string;
  partition: number;
  messages: LogMessage[];
}

export interface BatchContext {
  /** Marks every message up to and including `offset` as handled: it will be committed. */
  resolveOffset(offset: string): void;
  /** Keeps the group membership alive during a long batch. */
  heartbeat(): Promise<void>;
  /** False once the consumer is stopping or the partition moved to another member: return early. */
  isRunning(): boolean;
}

export interface ConsumeOptions {
  /** Consumer group. No default: two deployments sharing one would split each other's messages. */
  groupId: string;
  topics: string[];
  /** A group without committed offsets starts at the oldest retained message. Default true. */
  fromBeginning?: boolean;
  /**
   * Handles a batch of one partition. Only resolved offsets are committed; a throw redelivers
   * everything after the last resolved offset (after a short backoff).
   */
  eachBatch?: (batch: LogBatch, ctx: BatchContext) => Promise<void>;
  /** Handles one message; its offset is resolved when the promise resolves. */
  eachMessage?: (message: LogMessage) => Promise<void>;
  /** Partitions handled at the same time by this member. Default 1. */
  partitionsConcurrently?: number;
}

/** A running member of a consumer group. */
export interface LogConsumer {
  /** Partitions currently assigned to this member, per topic. */
  assignment(): Record<string, number[]>;
  /** Leaves the group after the in-flight batch; no handler runs after it resolves. */
  stop(): Promise<void>;
}

export interface LogStatus {
  /** The log answered (Kafka: the cluster was described within the timeout). */
  reachable: boolean;
  /** Per topic: messages the group has not committed yet (all partitions). Empty when unreachable. */
  lag: { topic: string; lag: number }[];
}

/** The event log (Kafka, or the in-process stand-in). */
export interface EventLog {
  readonly kind: 'kafka' | 'memory';
  /** Creates the topics that do not exist yet. Default 3 partitions. */
  ensureTopics(topics: string[], numPartitions?: number): Promise<void>;
  /** A producer that keeps per-key order across retries (Kafka: idempotent, one request in flight). */
  producer(): LogProducer;
  /** Joins `groupId` and starts handling messages; resolves once the member is running. */
  consume(options: ConsumeOptions): Promise<LogConsumer>;
  /** Reachability and `groupId`'s lag on `topics`; never takes longer than the log's status timeout. */
  status(groupId: string, topics: string[]): Promise<LogStatus>;
  /** Stops every consumer and producer made by this log; afterwards `send` and `consume` reject. */
  stop(): Promise<void>;
}
