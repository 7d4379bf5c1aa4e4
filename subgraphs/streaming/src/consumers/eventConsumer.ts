import type { Consumer, Kafka } from 'kafkajs';
import { withTenant, type Db } from '@lt/db';
import type { Logger } from '@lt/logger';
import { parkDeliveries } from '../data/deliveries';
import { activeSinksFor } from '../data/sinks';
import { STREAM_TOPICS, type TopicNames } from '../kafka/client';
import { parseEnvelope } from './parseEnvelope';

export interface EventConsumerOptions {
  db: Db;
  kafka: Kafka;
  topics: TopicNames;
  /** Consumer group. No default: two deployments sharing one would split each other's events. */
  groupId: string;
  log: Logger;
  /** Called after events were parked (the in-process dispatcher wakes up). */
  onParked?: () => void;
  /** Name in processed_events. Default 'webhooks'. */
  consumerName?: string;
}

export interface EventConsumer {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Reads the three domain topics and parks one PENDING delivery per ACTIVE subscribed sink of the
 * event's tenant, in the tenant's transaction, together with the processed_events row that makes a
 * redelivered message a no-op. kafkajs commits the offset only after this resolves: an event is
 * committed once it is parked (the dispatcher owns it then), never before.
 */
export function createEventConsumer(o: EventConsumerOptions): EventConsumer {
  const consumerName = o.consumerName ?? 'webhooks';
  let consumer: Consumer | undefined;

  async function handle(topic: string, key: string, value: Buffer | null): Promise<void> {
    const streamTopic = o.topics.streamTopic(topic);
    const event = parseEnvelope(value);
    if (!streamTopic || !event) {
      o.log.warn('skipping malformed message', { topic });
      return;
    }
    const parked = await withTenant(o.db, event.tenantId, async (tx) => {
      const { count } = await tx.processedEvent.createMany({
        data: [{ consumer: consumerName, eventId: event.id, tenantId: event.tenantId }],
        skipDuplicates: true,
      });
      if (count === 0) return 0; // seen before
      const sinks = await activeSinksFor(tx, streamTopic);
      return parkDeliveries(
        tx,
        event,
        streamTopic,
        key || event.tenantId,
        sinks.map((s) => s.id),
      );
    });
    if (parked > 0) o.onParked?.();
  }

  return {
    async start() {
      consumer = o.kafka.consumer({
        groupId: o.groupId,
        maxWaitTimeInMs: 100,
        retry: { retries: 5, initialRetryTime: 200, maxRetryTime: 5_000 },
      });
      await consumer.connect();
      await consumer.subscribe({ topics: Object.values(STREAM_TOPICS).map(o.topics.of), fromBeginning: true });
      await consumer.run({
        partitionsConsumedConcurrently: 3,
        eachMessage: ({ topic, message }) => handle(topic, message.key?.toString() ?? '', message.value),
      });
    },
    async stop() {
      await consumer?.disconnect();
    },
  };
}
