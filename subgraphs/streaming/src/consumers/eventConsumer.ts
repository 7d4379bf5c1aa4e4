import type { Db } from '@lt/db';
import { withRaw } from '../data/raw';
import type { Logger } from '@lt/logger';
import type { ParkItem } from '../data/deliveries';
import type { DirectDispatcher, DirectPlan, DirectSinkRow } from '../delivery/directDispatcher';
import type { EventLog, LogConsumer, LogMessage } from '../eventLog';
import { STREAM_TOPICS, type StreamTopic, type TopicNames } from '../kafka/client';
import { parseEnvelope } from './parseEnvelope';

export interface EventConsumerOptions {
  db: Db;
  /** Kafka, or the in-process log (`npm start`). */
  eventLog: EventLog;
  topics: TopicNames;
  /** Consumer group. No default: two deployments sharing one would split each other's events. */
  groupId: string;
  log: Logger;
  /** Called after events were parked (the in-process dispatcher wakes up). */
  onParked?: () => void;
  /** Name in processed_events. Default WEBHOOK_CONSUMER. */
  consumerName?: string;
  /** Messages per database transaction. Default 1_000. */
  chunkSize?: number;
  /**
   * The direct path of batched sinks: without it every sink's events are parked as deliveries
   * rows (the leased path).
   */
  direct?: DirectDispatcher;
}

export interface EventConsumer {
  start(): Promise<void>;
  stop(): Promise<void>;
}

type Parsed = ParkItem;

/**
 * Reads the domain topics and parks one PENDING delivery per ACTIVE subscribed sink of each
 * event's tenant, in that tenant's transaction, together with the processed_events rows that make a
 * redelivered message a no-op; a batched sink in the DIRECT state instead gets one journal row per
 * batch the chunk feeds and the events in memory (the direct dispatcher sends them). Offsets are resolved only after their chunk is committed to the
 * database: an event is committed to Kafka once it is parked (the dispatcher owns it), never before.
 * A batch is handled in chunks, one transaction per tenant per chunk (a transaction per message
 * costs ~10 ms of round trips and capped throughput at ~40 events/s).
 */
/** The webhook consumer's name in processed_events (its deduplication, and the embedded recovery's). */
export const WEBHOOK_CONSUMER = 'webhooks';

export function createEventConsumer(o: EventConsumerOptions): EventConsumer {
  const consumerName = o.consumerName ?? WEBHOOK_CONSUMER;
  const chunkSize = o.chunkSize ?? 1_000;
  let consumer: LogConsumer | undefined;
  let assignment = '';

  /**
   * One transaction of the tenant on node-postgres (the arrays of a 1,000-message chunk cost the
   * Prisma client more than Postgres takes to run the statements): processed_events for the new
   * ids, the tenant's ACTIVE subscribed sinks, one PENDING delivery per (event, parked sink) in
   * message order (each (sink, session) chain and each batched sink's run get increasing seq), and
   * for each DIRECT batched sink (only when the caller holds the tenant's lock) one journal row per
   * batch the chunk feeds. Returns the rows parked and the direct plan to apply once committed.
   */
  async function parkTenant(
    tenantId: string,
    topic: StreamTopic,
    items: Parsed[],
    locked: boolean,
  ): Promise<{ parked: number; plan?: DirectPlan }> {
    const direct = o.direct;
    return withRaw(o.db, tenantId, async (c) => {
      const fresh = await c.query<{ event_id: string }>(
        `INSERT INTO processed_events (consumer, event_id, tenant_id)
         SELECT $1, e, $2::uuid FROM unnest($3::uuid[]) AS e
         ON CONFLICT DO NOTHING RETURNING event_id::text`,
        [consumerName, tenantId, items.map((p) => p.event.id)],
      );
      if (fresh.rowCount === 0) return { parked: 0 };
      const isNew = new Set(fresh.rows.map((r) => r.event_id));
      const sinks = direct
        ? await c.query<DirectSinkRow & { id: string }>(
            `SELECT s.id::text, s.id::text AS sink_id, s.tenant_id::text, s.url, s.secret_enc, s.previous_secret_enc,
                    s.previous_secret_expires_at, s.failing_since, s.batch_max_events, s.batch_max_wait_ms,
                    s.batch_max_events IS NOT NULL AND EXISTS (
                      SELECT 1 FROM deliveries d WHERE d.sink_id = s.id AND d.status = 'PENDING') AS has_pending,
                    s.batch_max_events IS NOT NULL AND EXISTS (
                      SELECT 1 FROM webhook_batch_parts p
                       WHERE p.sink_id = s.id AND p.owner <> $2 AND p.lease_until > now()) AS foreign_parts
               FROM stream_sinks s WHERE s.status = 'ACTIVE' AND $1 = ANY(s.topics)`,
            [topic, direct.owner],
          )
        : await c.query<{ id: string }>(
            `SELECT id::text FROM stream_sinks WHERE status = 'ACTIVE' AND $1 = ANY(topics)`,
            [topic],
          );
      if (sinks.rowCount === 0) return { parked: 0 };
      const park = items.filter((p) => isNew.has(p.event.id));
      let directIds: string[] = [];
      if (direct) {
        const batched = (sinks.rows as unknown as DirectSinkRow[]).filter((r) => r.batch_max_events !== null);
        if (batched.length > 0 && !locked) {
          // Seen for the first time here: again under the tenant's lock (rolled back, nothing written).
          direct.noteBatched(tenantId);
          throw new NeedsTenantLock();
        }
        if (locked) directIds = direct.decide(tenantId, batched);
      }
      const parkSinks = sinks.rows.filter((s) => !directIds.includes(s.id)).map((s) => s.id);
      let parked = 0;
      if (parkSinks.length > 0) {
        const r = await c.query(
          `INSERT INTO deliveries (id, tenant_id, sink_id, event_id, topic, type, payload, ordering_key,
                                   next_attempt_at, updated_at)
           SELECT gen_random_uuid(), $1::uuid, s.sink_id, e.event_id, $2, e.type, e.payload::jsonb,
                  e.ordering_key, now(), now()
             FROM unnest($3::uuid[], $4::text[], $5::text[], $6::text[])
                    WITH ORDINALITY AS e(event_id, type, payload, ordering_key, n)
            CROSS JOIN unnest($7::uuid[]) WITH ORDINALITY AS s(sink_id, m)
            ORDER BY e.n, s.m
           ON CONFLICT (tenant_id, sink_id, event_id) DO NOTHING`,
          [
            tenantId,
            topic,
            park.map((i) => i.event.id),
            park.map((i) => i.event.type),
            park.map((i) => i.json),
            park.map((i) => i.orderingKey),
            parkSinks,
          ],
        );
        parked = r.rowCount ?? 0;
      }
      if (!direct || directIds.length === 0) return { parked };
      const plan = direct.plan(
        directIds,
        park.map((i) => ({ id: i.event.id, type: i.event.type, orderingKey: i.orderingKey, json: i.json })),
      );
      await direct.write(c, tenantId, topic, plan);
      return { parked, plan };
    });
  }

  /** A tenant's share of a chunk; under its lock when it has batched sinks (the direct path). */
  async function handleTenant(tenantId: string, topic: StreamTopic, items: Parsed[]): Promise<number> {
    const direct = o.direct;
    if (!direct?.hasBatched(tenantId)) {
      try {
        return (await parkTenant(tenantId, topic, items, false)).parked;
      } catch (err) {
        if (!(err instanceof NeedsTenantLock)) throw err;
      }
    }
    return direct!.withTenantLock(tenantId, async () => {
      const r = await parkTenant(tenantId, topic, items, true);
      if (r.plan) await direct!.apply(r.plan);
      return r.parked;
    });
  }

  async function handleChunk(topic: string, messages: LogMessage[]): Promise<void> {
    const streamTopic = o.topics.streamTopic(topic);
    const byTenant = new Map<string, Parsed[]>();
    for (const m of messages) {
      const event = parseEnvelope(m.value);
      if (!streamTopic || !event) {
        o.log.warn('skipping malformed message', { topic, offset: m.offset });
        continue;
      }
      const list = byTenant.get(event.tenantId) ?? [];
      list.push({ orderingKey: m.key || event.tenantId, event, json: m.value });
      byTenant.set(event.tenantId, list);
    }
    let parked = 0;
    for (const [tenantId, items] of byTenant) parked += await handleTenant(tenantId, streamTopic!, items);
    if (parked > 0) o.onParked?.();
  }

  return {
    async start() {
      consumer = await o.eventLog.consume({
        groupId: o.groupId,
        topics: Object.values(STREAM_TOPICS).map(o.topics.of),
        fromBeginning: true,
        // Every partition of the three topics at once (3 each): a slow tenant's transaction does
        // not hold up the others' partitions.
        partitionsConcurrently: 9,
        eachBatch: async (batch, { resolveOffset, heartbeat, isRunning }) => {
          // After a rebalance a partition may come from a member that still holds its older events
          // in memory: every direct sink is checked against Postgres again.
          const assigned = JSON.stringify(consumer?.assignment() ?? {});
          if (assigned !== assignment) {
            assignment = assigned;
            o.direct?.rebalanced();
          }
          for (let i = 0; i < batch.messages.length; i += chunkSize) {
            if (!isRunning()) return;
            const chunk = batch.messages.slice(i, i + chunkSize);
            await handleChunk(batch.topic, chunk);
            resolveOffset(chunk.at(-1)!.offset);
            await heartbeat();
          }
        },
      });
    },
    async stop() {
      await consumer?.stop();
    },
  };
}

/** A tenant's batched sinks were first seen in a transaction that did not hold the tenant's lock. */
class NeedsTenantLock extends Error {}
