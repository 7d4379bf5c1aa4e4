import { randomUUID } from 'node:crypto';
import { withTenant } from '@lt/db';
import type { EventEnvelope } from '@lt/events';
import type { SinkUseCaseDeps } from '../deps';
import { mustFindSink } from './readSinks';

/** Queues a `webhook.test.v1` delivery to the tenant's sink and wakes the dispatcher. */
export async function sendTestEvent(d: SinkUseCaseDeps, tenantId: string, sinkId: string) {
  const sink = await mustFindSink(d.db, tenantId, sinkId);
  const id = randomUUID();
  const event: EventEnvelope = {
    id,
    type: 'webhook.test.v1',
    tenantId,
    occurredAt: new Date().toISOString(),
    data: { sinkId, message: 'Test event from the location supergraph' },
  };
  const delivery = await withTenant(d.db, tenantId, (tx) =>
    tx.delivery.create({
      data: {
        tenantId,
        sinkId,
        eventId: id,
        topic: sink.topics[0] ?? 'TENANT_EVENTS',
        type: event.type,
        payload: event as unknown as object,
        orderingKey: `${tenantId}:test:${sinkId}`,
        nextAttemptAt: new Date(),
      },
    }),
  );
  d.wake();
  return delivery;
}
