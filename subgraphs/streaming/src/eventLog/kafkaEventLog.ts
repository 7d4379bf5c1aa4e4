import type { Admin, Consumer, IHeaders, Kafka, KafkaMessage, Producer } from 'kafkajs';
import { createKafka, ensureTopics, type KafkaOptions } from '../kafka/client';
import { keyHashPartitioner } from '../kafka/partitioner';
import type {
  ConsumeOptions,
  EventLog,
  LogConsumer,
  LogMessage,
  LogProducer,
  LogStatus,
  OutgoingMessage,
  TopicMessages,
} from './types';

export interface KafkaEventLogOptions extends KafkaOptions {
  /** Producer request timeout (acks from all in-sync replicas), ms. Default 5_000. */
  sendTimeoutMs?: number;
  /** `status()` gives up (unreachable) after this, ms. Default 2_000. */
  statusTimeoutMs?: number;
  /** Consumer heartbeat, ms: how fast a member notices a rebalance. Default 3_000 (kafkajs). */
  heartbeatIntervalMs?: number;
}

const toHeaders = (h: IHeaders | undefined): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h ?? {})) if (v !== undefined) out[k] = String(v);
  return out;
};

const toLogMessage = (topic: string, partition: number, m: KafkaMessage): LogMessage => ({
  topic,
  partition,
  offset: m.offset,
  key: m.key?.toString() ?? '',
  value: m.value?.toString() ?? '',
  headers: toHeaders(m.headers),
});

const stoppedError = () => new Error('event log stopped');

/**
 * The event log on Kafka (kafkajs). Producers are idempotent with one request in flight, so a retry
 * never reorders a partition; consumers resolve offsets by hand (`eachBatchAutoResolve: false`), so
 * only what a handler resolved is committed.
 */
export function createKafkaEventLog(o: KafkaEventLogOptions): EventLog & { readonly kafka: Kafka } {
  const kafka = createKafka({
    brokers: o.brokers,
    clientId: o.clientId,
    log: o.log,
    ...(o.retry ? { retry: o.retry } : {}),
    ...(o.connectionTimeoutMs ? { connectionTimeoutMs: o.connectionTimeoutMs } : {}),
    ...(o.requestTimeoutMs ? { requestTimeoutMs: o.requestTimeoutMs } : {}),
  });
  const producers = new Set<LogProducer>();
  const consumers = new Set<LogConsumer>();
  let admin: Admin | undefined;
  let adminConnected = false;
  let stopped = false;

  function producer(): LogProducer {
    let p: Producer | undefined;
    let connected = false;
    const connect = async (): Promise<Producer> => {
      if (stopped) throw stoppedError();
      if (p && connected) return p;
      // The default (Java-compatible) partitioning, hashed faster: see keyHashPartitioner.
      p ??= kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: true,
        createPartitioner: keyHashPartitioner,
      });
      await p.connect();
      connected = true;
      return p;
    };
    const toKafka = (messages: OutgoingMessage[]) =>
      messages.map((m) => ({ key: m.key, value: m.value, ...(m.headers ? { headers: m.headers } : {}) }));
    const sendBatch = async (batch: TopicMessages[]): Promise<void> => {
      const connectedProducer = await connect();
      await connectedProducer.sendBatch({
        acks: -1,
        timeout: o.sendTimeoutMs ?? 5_000,
        topicMessages: batch.map((b) => ({ topic: b.topic, messages: toKafka(b.messages) })),
      });
    };
    const handle: LogProducer = {
      send: (topic, messages) => sendBatch([{ topic, messages }]),
      sendBatch,
      async stop() {
        const current = p;
        p = undefined;
        connected = false;
        await current?.disconnect().catch(() => undefined);
      },
    };
    producers.add(handle);
    return handle;
  }

  async function consume(c: ConsumeOptions): Promise<LogConsumer> {
    if (stopped) throw stoppedError();
    if (!c.eachBatch === !c.eachMessage) throw new Error('consume: give exactly one of eachBatch, eachMessage');
    const consumer: Consumer = kafka.consumer({
      groupId: c.groupId,
      maxWaitTimeInMs: 100,
      retry: { retries: 5, initialRetryTime: 200, maxRetryTime: 5_000 },
      ...(o.heartbeatIntervalMs ? { heartbeatInterval: o.heartbeatIntervalMs } : {}),
    });
    let assignment: Record<string, number[]> = {};
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      assignment = e.payload.memberAssignment;
    });
    const eachBatch = c.eachBatch;
    const eachMessage = c.eachMessage;
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: c.topics, fromBeginning: c.fromBeginning ?? true });
      await consumer.run({
        partitionsConsumedConcurrently: c.partitionsConcurrently ?? 1,
        eachBatchAutoResolve: false,
        eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
          const messages = batch.messages.map((m) => toLogMessage(batch.topic, batch.partition, m));
          const ctx = { resolveOffset, heartbeat, isRunning: () => isRunning() && !isStale() };
          if (eachBatch) return eachBatch({ topic: batch.topic, partition: batch.partition, messages }, ctx);
          for (const m of messages) {
            if (!ctx.isRunning()) return;
            await eachMessage!(m);
            resolveOffset(m.offset);
            await heartbeat();
          }
        },
      });
    } catch (err) {
      await consumer.disconnect().catch(() => undefined);
      throw err;
    }
    const handle: LogConsumer = {
      assignment: () => assignment,
      async stop() {
        consumers.delete(handle);
        await consumer.disconnect();
      },
    };
    consumers.add(handle);
    return handle;
  }

  async function status(groupId: string, topics: string[]): Promise<LogStatus> {
    if (stopped) return { reachable: false, lag: [] };
    const probe = async (): Promise<LogStatus> => {
      admin ??= kafka.admin();
      if (!adminConnected) {
        await admin.connect();
        adminConnected = true;
      }
      await admin.describeCluster();
      const committed = await admin.fetchOffsets({ groupId, topics });
      const lag = await Promise.all(
        topics.map(async (topic) => {
          const ends = await admin!.fetchTopicOffsets(topic);
          const mine = committed.find((x) => x.topic === topic)?.partitions ?? [];
          let n = 0;
          for (const p of ends) {
            const at = Number(mine.find((m) => m.partition === p.partition)?.offset ?? '-1');
            n += Math.max(0, Number(p.high) - (at < 0 ? Number(p.low) : at));
          }
          return { topic, lag: n };
        }),
      );
      return { reachable: true, lag };
    };
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        probe(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('timeout')), o.statusTimeoutMs ?? 2_000);
        }),
      ]);
    } catch {
      return { reachable: false, lag: [] };
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    kind: 'kafka',
    kafka,
    ensureTopics: (topics, numPartitions) => ensureTopics(kafka, topics, numPartitions),
    producer,
    consume,
    status,
    async stop() {
      stopped = true;
      await Promise.allSettled([...consumers].map((c) => c.stop()));
      await Promise.allSettled([...producers].map((p) => p.stop()));
      if (adminConnected) await admin?.disconnect().catch(() => undefined);
      adminConnected = false;
    },
  };
}
