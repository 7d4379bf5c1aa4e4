import type { Kafka, Producer } from 'kafkajs';
import type { Db } from '@lt/db';
import { Topic } from '@lt/events';
import type { Logger } from '@lt/logger';
import { createEventConsumer, type EventConsumer } from './consumers/eventConsumer';
import { createDispatcher, type Dispatcher } from './delivery/dispatcher';
import { defaultDeliveryPolicy, type DeliveryPolicy } from './delivery/schedule';
import type { UrlPolicy } from './delivery/urlPolicy';
import { createKafka, ensureTopics, STREAM_TOPICS, topicNames, type TopicNames } from './kafka/client';
import { createOutboxRelay, type OutboxRelay } from './relay/outboxRelay';

export interface StreamingPipelineOptions {
  db: Db;
  log: Logger;
  brokers: string[];
  /** Consumer group of the webhook consumers (no default, see EventConsumerOptions). */
  groupId: string;
  /** Prefix of every topic name. Default '' (tests: unique). */
  topicPrefix?: string;
  secretKey: Buffer;
  urlPolicy: UrlPolicy;
  delivery?: Partial<DeliveryPolicy>;
  /** Run the outbox relay in this process. Default true. */
  relay?: boolean;
  relayPollIntervalMs?: number;
  dispatcherPollIntervalMs?: number;
  /** Only these tenants (tests sharing one database). Default: all. */
  tenantIds?: readonly string[];
}

export interface StreamingStatusProbe {
  brokerReachable: boolean;
  consumerLag: { topic: string; lag: number }[];
}

/** The running pipeline: outbox relay → Kafka → consumers → dispatcher → webhooks. */
export interface StreamingPipeline {
  topics: TopicNames;
  kafka: Kafka;
  relay?: OutboxRelay;
  consumer: EventConsumer;
  dispatcher: Dispatcher;
  /** Broker reachability and this group's lag per topic (bounded by a 2 s timeout). */
  status(): Promise<StreamingStatusProbe>;
  /** Stops in order: relay (flushes its producer), consumers, in-flight deliveries, producers. */
  stop(): Promise<void>;
}

export async function startStreamingPipeline(o: StreamingPipelineOptions): Promise<StreamingPipeline> {
  const topics = topicNames(o.topicPrefix ?? '');
  const log = o.log;
  const kafka = createKafka({ brokers: o.brokers, clientId: `streaming-${o.groupId}`, log });
  await ensureTopics(kafka, [...Object.values(STREAM_TOPICS), Topic.DEAD_LETTERS].map(topics.of));
  const dlq: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await dlq.connect();
  const dispatcher = createDispatcher({
    db: o.db,
    log: log.child({ component: 'dispatcher' }),
    secretKey: o.secretKey,
    urlPolicy: o.urlPolicy,
    policy: { ...defaultDeliveryPolicy, ...o.delivery },
    ...(o.dispatcherPollIntervalMs ? { pollIntervalMs: o.dispatcherPollIntervalMs } : {}),
    ...(o.tenantIds ? { tenantIds: o.tenantIds } : {}),
    deadLetter: async (letter) => {
      await dlq.send({
        topic: topics.deadLetters,
        messages: [
          {
            key: `${letter.tenantId}:${letter.sinkId}`,
            value: JSON.stringify(letter),
            headers: { 'tenant-id': letter.tenantId },
          },
        ],
      });
    },
  });
  const consumer = createEventConsumer({
    db: o.db,
    kafka,
    topics,
    groupId: o.groupId,
    log: log.child({ component: 'consumer' }),
    onParked: () => dispatcher.wake(),
  });
  const relay =
    o.relay === false
      ? undefined
      : createOutboxRelay({
          db: o.db,
          kafka,
          topics,
          log: log.child({ component: 'relay' }),
          ...(o.relayPollIntervalMs ? { pollIntervalMs: o.relayPollIntervalMs } : {}),
          ...(o.tenantIds ? { tenantIds: o.tenantIds } : {}),
        });
  dispatcher.start();
  await consumer.start();
  relay?.start();
  const admin = kafka.admin();
  let adminConnected = false;

  async function status(): Promise<StreamingStatusProbe> {
    const probe = async (): Promise<StreamingStatusProbe> => {
      if (!adminConnected) {
        await admin.connect();
        adminConnected = true;
      }
      await admin.describeCluster();
      const names = Object.values(STREAM_TOPICS).map(topics.of);
      const committed = await admin.fetchOffsets({ groupId: o.groupId, topics: names });
      const consumerLag = await Promise.all(
        names.map(async (topic) => {
          const ends = await admin.fetchTopicOffsets(topic);
          const mine = committed.find((c) => c.topic === topic)?.partitions ?? [];
          let lag = 0;
          for (const p of ends) {
            const c = Number(mine.find((m) => m.partition === p.partition)?.offset ?? '-1');
            lag += Math.max(0, Number(p.high) - (c < 0 ? Number(p.low) : c));
          }
          return { topic, lag };
        }),
      );
      return { brokerReachable: true, consumerLag };
    };
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        probe(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('timeout')), 2_000);
        }),
      ]);
    } catch {
      return { brokerReachable: false, consumerLag: [] };
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    topics,
    kafka,
    ...(relay ? { relay } : {}),
    consumer,
    dispatcher,
    status,
    async stop() {
      await relay?.stop();
      await consumer.stop();
      await dispatcher.stop();
      await dlq.disconnect();
      if (adminConnected) await admin.disconnect();
    },
  };
}
