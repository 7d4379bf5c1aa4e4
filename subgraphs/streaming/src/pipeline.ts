import type { Db } from '@lt/db';
import { Topic } from '@lt/events';
import type { Logger } from '@lt/logger';
import { WEBHOOK_CONSUMER, createEventConsumer, type EventConsumer } from './consumers/eventConsumer';
import { createBatchDispatcher } from './delivery/batchDispatcher';
import { createDeliveredRecorder } from './delivery/deliveredRecorder';
import { createAttempter } from './delivery/attempt';
import { createDirectDispatcher } from './delivery/directDispatcher';
import { createDispatcher, type Dispatcher } from './delivery/dispatcher';
import { defaultDeliveryPolicy, type DeliveryPolicy } from './delivery/schedule';
import type { UrlPolicy } from './delivery/urlPolicy';
import { createKafkaEventLog, type EventLog } from './eventLog';
import { STREAM_TOPICS, topicNames, type TopicNames } from './kafka/client';
import { createOutboxRelay, type OutboxRelay } from './relay/outboxRelay';
import { republishUnconsumed } from './relay/recoverUnconsumed';

export interface StreamingPipelineOptions {
  db: Db;
  log: Logger;
  /** Kafka bootstrap brokers: the pipeline makes (and stops) its own Kafka event log. */
  brokers?: string[];
  /**
   * Or an event log to run on (e.g. `createMemoryEventLog()` when KAFKA_BROKERS is unset). Owned
   * by the caller: `stop()` leaves it running. Exactly one of `brokers`, `eventLog`.
   */
  eventLog?: EventLog;
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
  /**
   * Batched sinks straight from the consumer while they have no PENDING deliveries row (the
   * DIRECT state). Default true; false: every event is parked as a deliveries row.
   */
  directBatches?: boolean;
  /** Lease of the direct path's journal rows, ms (tests). Default attemptTimeoutMs × 2 + 5 s. */
  directLeaseMs?: number;
}

export interface StreamingStatusProbe {
  brokerReachable: boolean;
  consumerLag: { topic: string; lag: number }[];
}

/** The running pipeline: outbox relay → event log (Kafka) → consumers → dispatcher → webhooks. */
export interface StreamingPipeline {
  topics: TopicNames;
  /** The event log the pipeline runs on (tests read the dead-letter topic through it). */
  eventLog: EventLog;
  relay?: OutboxRelay;
  consumer: EventConsumer;
  dispatcher: Dispatcher;
  /** Broker reachability and this group's lag per topic (bounded by a 2 s timeout). */
  status(): Promise<StreamingStatusProbe>;
  /**
   * Stops in order: relay (flushes its producer), consumers, in-flight deliveries, producers, and
   * the event log if the pipeline made it.
   */
  stop(): Promise<void>;
}

export async function startStreamingPipeline(o: StreamingPipelineOptions): Promise<StreamingPipeline> {
  const topics = topicNames(o.topicPrefix ?? '');
  const log = o.log;
  if (!o.brokers?.length === !o.eventLog)
    throw new Error('startStreamingPipeline: give exactly one of brokers, eventLog');
  const owned = !o.eventLog;
  const eventLog =
    o.eventLog ?? createKafkaEventLog({ brokers: o.brokers ?? [], clientId: `streaming-${o.groupId}`, log });
  try {
    await eventLog.ensureTopics([...Object.values(STREAM_TOPICS), Topic.DEAD_LETTERS].map(topics.of));
  } catch (err) {
    if (owned) await eventLog.stop();
    throw err;
  }
  const dispatcherOptions = {
    db: o.db,
    log: log.child({ component: 'dispatcher' }),
    secretKey: o.secretKey,
    urlPolicy: o.urlPolicy,
    policy: { ...defaultDeliveryPolicy, ...o.delivery },
    ...(o.dispatcherPollIntervalMs ? { pollIntervalMs: o.dispatcherPollIntervalMs } : {}),
    ...(o.tenantIds ? { tenantIds: o.tenantIds } : {}),
  };
  // Unbatched sinks: one delivery per request (dispatcher), successes recorded together in one
  // statement; batched sinks: DIRECT from the consumer's memory while Postgres holds no PENDING row
  // for them (successes delete journal rows, many per statement), otherwise PARKED: one leased
  // batch per request (batch dispatcher), each success one statement.
  const single = createDispatcher({ ...dispatcherOptions, recorder: createDeliveredRecorder(o.db) });
  // One breaker per batched sink, whichever path sends its batch.
  const attempter = createAttempter(dispatcherOptions);
  const batched = createBatchDispatcher({ ...dispatcherOptions, attempter });
  const direct =
    o.directBatches === false
      ? undefined
      : createDirectDispatcher({
          ...dispatcherOptions,
          log: log.child({ component: 'direct' }),
          ...(o.directLeaseMs ? { leaseMs: o.directLeaseMs } : {}),
          onConverted: () => batched.wake(),
          attempter,
        });
  const dispatcher: Dispatcher = {
    start() {
      single.start();
      batched.start();
      direct?.start();
    },
    wake() {
      single.wake();
      batched.wake();
    },
    breakerState: (sinkId) => batched.breakerState(sinkId) ?? single.breakerState(sinkId),
    async stop() {
      // The direct path first: what it still holds becomes deliveries rows (due now).
      await direct?.stop();
      await Promise.all([single.stop(), batched.stop()]);
      attempter.close();
    },
  };
  const consumer = createEventConsumer({
    db: o.db,
    eventLog,
    topics,
    groupId: o.groupId,
    log: log.child({ component: 'consumer' }),
    onParked: () => dispatcher.wake(),
    ...(direct ? { direct } : {}),
  });
  const relay =
    o.relay === false
      ? undefined
      : createOutboxRelay({
          db: o.db,
          eventLog,
          topics,
          log: log.child({ component: 'relay' }),
          ...(o.relayPollIntervalMs ? { pollIntervalMs: o.relayPollIntervalMs } : {}),
          ...(o.tenantIds ? { tenantIds: o.tenantIds } : {}),
        });
  dispatcher.start();
  try {
    // The in-process log starts empty: what it held at the last stop, unparked, is published again
    // before anything new (Kafka keeps its messages itself).
    if (eventLog.kind === 'memory' && relay)
      await republishUnconsumed({
        db: o.db,
        eventLog,
        topics,
        log: log.child({ component: 'recovery' }),
        consumerName: WEBHOOK_CONSUMER,
        ...(o.tenantIds ? { tenantIds: o.tenantIds } : {}),
      });
    await consumer.start();
  } catch (err) {
    await dispatcher.stop();
    if (owned) await eventLog.stop();
    throw err;
  }
  relay?.start();

  async function status(): Promise<StreamingStatusProbe> {
    const probe = await eventLog.status(o.groupId, Object.values(STREAM_TOPICS).map(topics.of));
    return { brokerReachable: probe.reachable, consumerLag: probe.lag };
  }

  return {
    topics,
    eventLog,
    ...(relay ? { relay } : {}),
    consumer,
    dispatcher,
    status,
    async stop() {
      await relay?.stop();
      await consumer.stop();
      await dispatcher.stop();
      if (owned) await eventLog.stop();
    },
  };
}
