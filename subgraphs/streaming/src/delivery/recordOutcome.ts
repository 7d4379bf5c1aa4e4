import { withTenant, type Db, type DeliveryModel as Delivery, type StreamSinkModel as StreamSink } from '@lt/db';
import { appendOutbox, deadLetters } from '@lt/events';
import type { AttemptOutcome } from './httpPost';
import type { DeadLetter } from './dispatcher';
import type { DeliveryPolicy, afterFailure as AfterFailure } from './schedule';

/**
 * Writes an attempt's result (one transaction, the delivery's tenant): DELIVERED; FAILED + sink
 * DISABLED on 410; otherwise the next retry or DEAD (with its `webhook.dead-lettered.v1` outbox
 * event); and the sink's continuous-failure window.
 */
export async function recordOutcome(
  db: Db,
  o: {
    delivery: Delivery;
    sink: StreamSink;
    outcome: AttemptOutcome;
    policy: DeliveryPolicy;
    afterFailure: typeof AfterFailure;
  },
): Promise<{ deadLetter?: DeadLetter; disabled?: string }> {
  const { delivery: d, sink, outcome } = o;
  const now = new Date();
  const attempts = d.attempts + 1;
  return withTenant(db, d.tenantId, async (tx) => {
    switch (outcome.kind) {
      case 'delivered':
        await tx.delivery.update({
          where: { id: d.id },
          data: {
            status: 'DELIVERED',
            attempts,
            lastStatusCode: outcome.status,
            lastError: null,
            responseBody: outcome.body,
            deliveredAt: now,
            nextAttemptAt: null,
          },
        });
        if (sink.failingSince) await tx.streamSink.update({ where: { id: sink.id }, data: { failingSince: null } });
        return {};
      case 'gone': {
        const reason = 'endpoint answered 410 Gone';
        await tx.delivery.update({
          where: { id: d.id },
          data: {
            status: 'FAILED',
            attempts,
            lastStatusCode: 410,
            lastError: reason,
            responseBody: outcome.body,
            nextAttemptAt: null,
          },
        });
        await tx.streamSink.update({ where: { id: sink.id }, data: { status: 'DISABLED', disabledReason: reason } });
        return { disabled: reason };
      }
      case 'failed':
      case 'refused': {
        const status = outcome.kind === 'failed' ? outcome.status : null;
        const body = outcome.kind === 'failed' ? outcome.body : null;
        const next = o.afterFailure(attempts, o.policy);
        const dead = next.kind === 'dead';
        await tx.delivery.update({
          where: { id: d.id },
          data: {
            status: dead ? 'DEAD' : 'PENDING',
            attempts,
            lastStatusCode: status,
            lastError: outcome.error,
            responseBody: body,
            nextAttemptAt: dead ? null : new Date(now.getTime() + next.delayMs),
          },
        });
        const failingSince = sink.failingSince ?? now;
        let disabled: string | undefined;
        if (now.getTime() - failingSince.getTime() >= o.policy.disableAfterMs) {
          disabled = `failing continuously since ${failingSince.toISOString()}`;
          await tx.streamSink.update({
            where: { id: sink.id },
            data: { status: 'DISABLED', disabledReason: disabled, failingSince },
          });
        } else if (!sink.failingSince) {
          await tx.streamSink.updateMany({ where: { id: sink.id, failingSince: null }, data: { failingSince } });
        }
        const deadLetter: DeadLetter | undefined = dead
          ? {
              deliveryId: d.id,
              sinkId: sink.id,
              tenantId: d.tenantId,
              attempts,
              lastStatusCode: status,
              lastError: outcome.error,
              deadAt: now.toISOString(),
              event: d.payload,
            }
          : undefined;
        // Same transaction as the DEAD row: the relay publishes it to the dead-letter topic.
        if (deadLetter) await appendOutbox(tx, [deadLetters.event(deadLetter, now)]);
        return { ...(deadLetter ? { deadLetter } : {}), ...(disabled ? { disabled } : {}) };
      }
    }
  });
}
