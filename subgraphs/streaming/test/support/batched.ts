/**
 * What the batched-sink tests share: a pipeline on real Kafka for their tenants, a batched sink
 * inserted directly, the events of a batch request, and the direct path's journal as the sink's
 * tenant reads it.
 */
import { withTenant, type Db } from '@lt/db';
import type { Logger } from '@lt/logger';
import { testEnv, uniqueName } from '@lt/testing';
import { encryptSecret, generateSecret } from '../../src/crypto/secrets';
import { withRaw } from '../../src/data/raw';
import { insertSink } from '../../src/data/sinks';
import type { DeliveryPolicy } from '../../src/delivery/schedule';
import type { StreamTopic } from '../../src/kafka/client';
import { startStreamingPipeline, type StreamingPipeline } from '../../src/pipeline';
import type { Received } from './receiver';

/** A pipeline on Kafka (own topics and consumer group) for `tenantIds`, polling fast. */
export function startBatchedTestPipeline(o: {
  db: Db;
  log: Logger;
  key: Buffer;
  name: string;
  tenantIds: string[];
  delivery: Partial<DeliveryPolicy>;
}): Promise<StreamingPipeline> {
  return startStreamingPipeline({
    db: o.db,
    log: o.log,
    brokers: testEnv().kafkaBrokers,
    groupId: uniqueName(o.name),
    topicPrefix: uniqueName(o.name) + '.',
    secretKey: o.key,
    urlPolicy: { allowLoopback: true },
    delivery: o.delivery,
    relayPollIntervalMs: 20,
    dispatcherPollIntervalMs: 50,
    tenantIds: o.tenantIds,
  });
}

/** Inserts a sink (batched unless `batch` is null); returns it with its secret. */
export async function insertBatchedSink(
  db: Db,
  key: Buffer,
  tenantId: string,
  url: string,
  batch: { maxEvents: number; maxWaitMs: number } | null,
  topics: StreamTopic[] = ['LOCATION_UPDATES'],
  name = 'batched',
) {
  const secret = generateSecret();
  const sink = await withTenant(db, tenantId, (tx) =>
    insertSink(tx, {
      tenantId,
      name,
      url,
      topics,
      secretEnc: encryptSecret(secret, key),
      ...(batch ? { batchMaxEvents: batch.maxEvents, batchMaxWaitMs: batch.maxWaitMs } : {}),
    }),
  );
  return { sink, secret };
}

/** The envelopes of a batch request, in order. */
export const eventsOf = <E = { id: string; tenantId: string; data: Record<string, unknown> }>(r: Received): E[] =>
  (r.body as unknown as { data: { events: E[] } }).data.events;

/** The sink's journal rows (direct batches held in memory), in seq order, as its tenant reads them. */
export const journalOf = (db: Db, tenantId: string, sinkId: string) =>
  withRaw(
    db,
    tenantId,
    async (c) =>
      (
        await c.query<{ batch_id: string; event_ids: string[]; seqs: string[] }>(
          `SELECT batch_id::text, event_ids::text[], seqs::text[] FROM webhook_batch_parts WHERE sink_id = $1
          ORDER BY seqs[1]`,
          [sinkId],
        )
      ).rows,
  );

/** Each session's `i` values (events with `data: { s, i }`) in order of first arrival. */
export function firstArrivalOrder(accepted: Received[]): Map<string, number[]> {
  const seen = new Set<string>();
  const by = new Map<string, number[]>();
  for (const e of accepted.flatMap((r) => eventsOf<{ id: string; data: { s: string; i: number } }>(r))) {
    if (seen.has(e.id)) continue;
    seen.add(e.id);
    by.set(e.data.s, [...(by.get(e.data.s) ?? []), e.data.i]);
  }
  return by;
}
