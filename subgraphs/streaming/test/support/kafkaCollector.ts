import type { Kafka } from 'kafkajs';
import { uniqueName } from '@lt/testing';

export interface Collected {
  topic: string;
  key: string;
  value: { id: string; type: string; tenantId: string; data: Record<string, unknown> };
  headers: Record<string, string>;
}

/** A consumer (own group) that collects every message of `topics` from the beginning. */
export async function collectTopics(kafka: Kafka, topics: string[]) {
  const consumer = kafka.consumer({ groupId: uniqueName('collector'), maxWaitTimeInMs: 100 });
  const messages: Collected[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ topic, message }) => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
      messages.push({ topic, key: message.key!.toString(), value: JSON.parse(message.value!.toString()), headers });
      for (const w of waiters) if (messages.length >= w.n) w.resolve();
    },
  });
  return {
    messages,
    /** Resolves once `n` messages arrived; rejects after `timeoutMs`. */
    waitForCount(n: number, timeoutMs = 20_000): Promise<void> {
      if (messages.length >= n) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const t = setTimeout(
          () => reject(new Error(`only ${messages.length}/${n} messages after ${timeoutMs} ms`)),
          timeoutMs,
        );
        waiters.push({ n, resolve: () => (clearTimeout(t), resolve()) });
      });
    },
    stop: () => consumer.disconnect(),
  };
}
