import { Kafka, logLevel, type RetryOptions } from 'kafkajs';
import { Topic } from '@lt/events';
import type { Logger } from '@lt/logger';

/** The topics a sink can subscribe to (the GraphQL `StreamTopic` enum) and their Kafka names. */
export const STREAM_TOPICS = {
  LOCATION_UPDATES: Topic.LOCATION_UPDATES,
  SESSION_EVENTS: Topic.SESSION_EVENTS,
  TENANT_EVENTS: Topic.TENANT_EVENTS,
  GEOFENCE_EVENTS: Topic.GEOFENCE_EVENTS,
} as const;
export type StreamTopic = keyof typeof STREAM_TOPICS;
export const isStreamTopic = (v: unknown): v is StreamTopic => typeof v === 'string' && v in STREAM_TOPICS;

/**
 * Kafka topic names carry a configurable prefix (`''` in production; unique per test so tests never
 * see each other's messages).
 */
export interface TopicNames {
  prefix: string;
  /** Kafka name of a domain topic (`location-updates`) or the dead-letter topic. */
  of(name: string): string;
  /** The StreamTopic a Kafka topic carries, or undefined for anything else. */
  streamTopic(kafkaTopic: string): StreamTopic | undefined;
  deadLetters: string;
}

export function topicNames(prefix = ''): TopicNames {
  const byKafka = new Map(Object.entries(STREAM_TOPICS).map(([k, v]) => [prefix + v, k as StreamTopic]));
  return {
    prefix,
    of: (name) => prefix + name,
    streamTopic: (t) => byKafka.get(t),
    deadLetters: prefix + Topic.DEAD_LETTERS,
  };
}

export interface KafkaOptions {
  brokers: string[];
  clientId: string;
  log: Logger;
  /**
   * kafkajs retry (its default retries for ~10 s before failing). Ours fails within ~1–2 s
   * so callers (the relay's own backoff, consumer restarts) decide what happens next.
   */
  retry?: RetryOptions;
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
}

/** A kafkajs client whose logs go through our logger (warn and above). */
export function createKafka(o: KafkaOptions): Kafka {
  return new Kafka({
    clientId: o.clientId,
    brokers: o.brokers,
    connectionTimeout: o.connectionTimeoutMs ?? 1_000,
    requestTimeout: o.requestTimeoutMs ?? 5_000,
    retry: o.retry ?? { initialRetryTime: 100, retries: 3, maxRetryTime: 1_000 },
    logLevel: logLevel.WARN,
    logCreator: () => (entry) => {
      const { message, ...rest } = entry.log;
      const fields = { kafka: entry.namespace, ...rest };
      if (entry.level <= logLevel.ERROR) o.log.warn(`kafka: ${message}`, fields);
      else o.log.debug(`kafka: ${message}`, fields);
    },
  });
}

/**
 * Creates the topics if missing (the broker may auto-create them too, but with its defaults and only
 * on first use, which races a consumer subscribing before the first publish).
 */
export async function ensureTopics(kafka: Kafka, topics: string[], numPartitions = 3): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      timeout: 10_000,
      topics: topics.map((topic) => ({ topic, numPartitions })),
    });
  } finally {
    await admin.disconnect();
  }
}
