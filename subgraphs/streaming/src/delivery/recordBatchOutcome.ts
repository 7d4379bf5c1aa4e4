import { withTenant, type Db, type StreamSinkModel as StreamSink } from '@lt/db';
import { appendOutbox, deadLetters } from '@lt/events';
import type { AttemptOutcome } from './httpPost';
import type { DeadLetter } from './dispatcher';
import { afterFailure, type DeliveryPolicy } from './schedule';

/** A leased batch: its webhook-id and its deliveries in seq order. */
export interface LeasedBatch {
  tenantId: string;
  sinkId: string;
  batchId: string;
  /** Attempts made so far (the batch's rows always move together, so they share it). */
  attempts: number;
  rows: { deliveryId: string; eventId: string; payload: string; createdAt: Date }[];
}

/**
 * Writes a batch attempt's result for all its deliveries in one transaction (the sink's tenant), as
 * recordOutcome does for one: DELIVERED; FAILED + sink DISABLED on 410; otherwise the next retry of
 * the whole batch (same batch_id, so the same webhook-id) or DEAD with one `webhook.dead-lettered.v1`
 * outbox event per delivery; and the sink's continuous-failure window.
 */
export async function recordBatchOutcome(
  db: Db,
  o: { batch: LeasedBatch; sink: StreamSink; outcome: AttemptOutcome; policy: DeliveryPolicy },
): Promise<{ dead?: number; disabled?: string }> {
  const { batch, sink, outcome } = o;
  const now = new Date();
  const attempts = batch.attempts + 1;
  const where = { id: { in: batch.rows.map((r) => r.deliveryId) }, status: 'PENDING' as const };
  return withTenant(db, batch.tenantId, async (tx) => {
    switch (outcome.kind) {
      case 'delivered':
        await tx.delivery.updateMany({
          where,
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
        await tx.delivery.updateMany({
          where,
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
        const next = afterFailure(attempts, o.policy);
        const dead = next.kind === 'dead';
        await tx.delivery.updateMany({
          where,
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
        // Same transaction as the DEAD rows: the relay publishes them to the dead-letter topic.
        if (dead)
          await appendOutbox(
            tx,
            batch.rows.map((r) => {
              const letter: DeadLetter & { batchId: string } = {
                deliveryId: r.deliveryId,
                sinkId: sink.id,
                tenantId: batch.tenantId,
                attempts,
                lastStatusCode: status,
                lastError: outcome.error,
                deadAt: now.toISOString(),
                event: JSON.parse(r.payload) as unknown,
                batchId: batch.batchId,
              };
              return deadLetters.event(letter, now);
            }),
          );
        return { ...(dead ? { dead: batch.rows.length } : {}), ...(disabled ? { disabled } : {}) };
      }
    }
  });
}
