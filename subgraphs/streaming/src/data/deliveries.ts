import type { Tx } from '@lt/db';
import type { EventEnvelope } from '@lt/events';
import type { StreamTopic } from '../kafka/client';

export type DeliveryStatus = 'PENDING' | 'DELIVERED' | 'FAILED' | 'DEAD';

/** One event to park: its envelope, the envelope's JSON text as read from the log, its Kafka key. */
export interface ParkItem {
  event: EventEnvelope;
  json: string;
  orderingKey: string;
}

/**
 * Parks events of one tenant and topic for each sink as PENDING deliveries (the dispatcher owns them
 * from here), in one statement: rows are numbered (seq) in the order of `items`, so each
 * (sink, session) chain and each batched sink's run keep the log's order. Unique
 * (tenant, sink, event) makes a redelivered Kafka message a no-op.
 */
export async function parkDeliveries(
  tx: Tx,
  tenantId: string,
  topic: StreamTopic,
  items: readonly ParkItem[],
  sinkIds: readonly string[],
): Promise<number> {
  if (sinkIds.length === 0 || items.length === 0) return 0;
  return tx.$executeRaw`
    INSERT INTO deliveries (id, tenant_id, sink_id, event_id, topic, type, payload, ordering_key,
                            next_attempt_at, updated_at)
    SELECT gen_random_uuid(), ${tenantId}::uuid, s.sink_id, e.event_id, ${topic}, e.type, e.payload::jsonb,
           e.ordering_key, now(), now()
      FROM unnest(${items.map((i) => i.event.id)}::uuid[], ${items.map((i) => i.event.type)}::text[],
                  ${items.map((i) => i.json)}::text[], ${items.map((i) => i.orderingKey)}::text[])
             WITH ORDINALITY AS e(event_id, type, payload, ordering_key, n)
     CROSS JOIN unnest(${[...sinkIds]}::uuid[]) WITH ORDINALITY AS s(sink_id, m)
     ORDER BY e.n, s.m
    ON CONFLICT (tenant_id, sink_id, event_id) DO NOTHING`;
}

/** Counts by status and the last success, for `StreamSink.stats`. */
export async function sinkStats(tx: Tx, sinkId: string) {
  const groups = await tx.delivery.groupBy({ by: ['status'], where: { sinkId }, _count: { _all: true } });
  const count = (s: DeliveryStatus) => groups.find((g) => g.status === s)?._count._all ?? 0;
  const last = await tx.delivery.findFirst({
    where: { sinkId, status: 'DELIVERED' },
    orderBy: { deliveredAt: 'desc' },
    select: { deliveredAt: true },
  });
  return {
    delivered: count('DELIVERED'),
    pending: count('PENDING'),
    failed: count('FAILED'),
    dead: count('DEAD'),
    lastDeliveredAt: last?.deliveredAt ?? null,
  };
}

/** Newest first, keyset-paginated on (createdAt, id). */
export function listDeliveries(
  tx: Tx,
  sinkId: string,
  o: { status?: DeliveryStatus | null; take: number; after?: { createdAt: Date; id: string } },
) {
  return tx.delivery.findMany({
    where: {
      sinkId,
      ...(o.status ? { status: o.status } : {}),
      ...(o.after
        ? {
            OR: [{ createdAt: { lt: o.after.createdAt } }, { createdAt: o.after.createdAt, id: { lt: o.after.id } }],
          }
        : {}),
    },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: o.take,
  });
}

/** DEAD → PENDING (fresh attempt budget, due now, same webhook-id). Returns how many. */
export async function requeueDead(tx: Tx, sinkId: string): Promise<number> {
  const { count } = await tx.delivery.updateMany({
    where: { sinkId, status: 'DEAD' },
    data: { status: 'PENDING', attempts: 0, nextAttemptAt: new Date(), lastError: null },
  });
  return count;
}
