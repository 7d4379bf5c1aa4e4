import { withSystem, type Db } from '@lt/db';
import type { Logger } from '@lt/logger';
import type { EventLog } from '../eventLog';
import { STREAM_TOPICS, type TopicNames } from '../kafka/client';
import { groupByTopic, type ClaimedRow } from './outboxRelay';

export interface RecoverUnconsumedOptions {
  db: Db;
  /** The in-process log the pipeline is about to consume (it starts empty). */
  eventLog: EventLog;
  topics: TopicNames;
  log: Logger;
  /** The consumer's name in processed_events. */
  consumerName: string;
  /** Only these tenants' rows (tests). Default: every tenant. */
  tenantIds?: readonly string[];
  /** Rows republished at most. Default 100_000. */
  max?: number;
}

/**
 * The in-process event log lives in memory: events the relay published to it (rows marked sent)
 * but the consumer had not parked yet are gone when the process stops or crashes. At start, before
 * the relay runs, this republishes every sent row of the consumer's topics that has no
 * processed_events row — in relay order, so per-session order holds; the consumer deduplicates by
 * event id. Kafka keeps its messages, so the Kafka pipeline does not need this.
 */
export async function republishUnconsumed(o: RecoverUnconsumedOptions): Promise<number> {
  const max = o.max ?? 100_000;
  const stored = Object.values(STREAM_TOPICS) as string[];
  const scope = o.tenantIds ? [...o.tenantIds] : null;
  const producer = o.eventLog.producer();
  // Paging in relay order, (txid, seq).
  let afterTxid = '0';
  let after = 0n;
  let total = 0;
  try {
    while (total < max) {
      const rows = await withSystem(
        o.db,
        (tx) =>
          tx.$queryRaw<(ClaimedRow & { txid: string })[]>`
            SELECT * FROM app_outbox_unconsumed(${o.consumerName}, ${stored}::text[], ${afterTxid}::xid8, ${after}::bigint,
              ${Math.min(1_000, max - total)}::integer, ${scope}::uuid[])`,
      );
      if (rows.length === 0) break;
      const byTopic = groupByTopic(rows, o.topics);
      await producer.sendBatch([...byTopic].map(([topic, messages]) => ({ topic, messages })));
      total += rows.length;
      afterTxid = rows.at(-1)!.txid;
      after = BigInt(rows.at(-1)!.seq);
    }
  } finally {
    await producer.stop();
  }
  if (total > 0) o.log.warn('republished events the in-process log lost at the last stop', { events: total });
  return total;
}
