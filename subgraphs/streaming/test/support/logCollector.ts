import type { EventLog } from '../../src/eventLog';
import { uniqueName } from '@lt/testing';

export interface Collected {
  topic: string;
  key: string;
  value: { id: string; type: string; tenantId: string; data: Record<string, unknown> };
  headers: Record<string, string>;
}

/** A consumer (own group) that collects every message of `topics` from the beginning. */
export async function collectTopics(eventLog: EventLog, topics: string[]) {
  const messages: Collected[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const consumer = await eventLog.consume({
    groupId: uniqueName('collector'),
    topics,
    fromBeginning: true,
    eachMessage: async ({ topic, key, value, headers }) => {
      messages.push({ topic, key, value: JSON.parse(value) as Collected['value'], headers });
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
    stop: () => consumer.stop(),
  };
}
