import type { Tx } from '@lt/db';
import type { EventEnvelope } from '@lt/events';

export type DeliveryStatus = 'PENDING' | 'DELIVERED' | 'FAILED' | 'DEAD';

/** One event to park: its envelope, the envelope's JSON text as read from the log, its Kafka key. */
export interface ParkItem {
  event: EventEnvelope;
  json: string;
  orderingKey: string;
}

/**
 * Counts by status and the last success, for `StreamSink.stats`. `delivered` includes the events
 * of batches sent straight from the consumer (counted on the sink, they have no deliveries row).
 */
export async function sinkStats(tx: Tx, sinkId: string) {
  const groups = await tx.delivery.groupBy({ by: ['status'], where: { sinkId }, _count: { _all: true } });
  const count = (s: DeliveryStatus) => groups.find((g) => g.status === s)?._count._all ?? 0;
  const last = await tx.delivery.findFirst({
    where: { sinkId, status: 'DELIVERED' },
    orderBy: { deliveredAt: 'desc' },
    select: { deliveredAt: true },
  });
  const [direct] = await tx.$queryRaw<{ n: bigint; at: Date | null }[]>`
    SELECT direct_delivered AS n, direct_delivered_at AS at FROM stream_sinks WHERE id = ${sinkId}::uuid`;
  const lastAt = [last?.deliveredAt, direct?.at].filter((d): d is Date => !!d).sort((a, b) => +b - +a)[0];
  return {
    delivered: count('DELIVERED') + Number(direct?.n ?? 0),
    pending: count('PENDING'),
    failed: count('FAILED'),
    dead: count('DEAD'),
    lastDeliveredAt: lastAt ?? null,
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
