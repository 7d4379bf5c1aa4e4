import { randomUUID } from 'node:crypto';
import type { Tx } from '@lt/db';
import type { EventEnvelope } from './envelope';
import { eventKey } from './envelope';
import type { EventType, TopicName } from './registry';

export interface OutboxEvent<T extends Record<string, unknown> = Record<string, unknown>> {
  topic: TopicName;
  type: EventType;
  tenantId: string;
  /** Entity the key is built from (session id for location/session events; none for tenant events). */
  entityId?: string;
  data: T;
  occurredAt?: Date;
}

/**
 * Writes events to the outbox inside the caller's transaction (the same one as the data), so an
 * event exists exactly when its data was committed. Returns the envelopes (ids included).
 */
export async function appendOutbox(tx: Tx, events: OutboxEvent[]): Promise<EventEnvelope[]> {
  if (events.length === 0) return [];
  const rows = events.map((e) => {
    const id = randomUUID();
    const occurredAt = e.occurredAt ?? new Date();
    return {
      envelope: {
        id,
        type: e.type,
        tenantId: e.tenantId,
        occurredAt: occurredAt.toISOString(),
        data: e.data,
      } satisfies EventEnvelope,
      row: {
        id,
        tenantId: e.tenantId,
        topic: e.topic,
        key: eventKey(e.tenantId, e.entityId),
        type: e.type,
        payload: e.data as object,
        occurredAt,
      },
    };
  });
  await tx.outbox.createMany({ data: rows.map((r) => r.row) });
  return rows.map((r) => r.envelope);
}
