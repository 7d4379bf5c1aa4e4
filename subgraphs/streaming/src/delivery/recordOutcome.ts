import { withTenant, type Db, type StreamSinkModel as StreamSink } from '@lt/db';
import { appendOutbox, deadLetters, type DeadLetterV1 } from '@lt/events';
import type { AttemptOutcome } from './httpPost';
import { afterFailure, type DeliveryPolicy } from './schedule';

/**
 * The `data` of a `webhook.dead-lettered.v1` event: a delivery that exhausted its retries. It is
 * written to the outbox in the transaction that marks the delivery DEAD (recordOutcome), so the
 * relay publishes it to the dead-letter topic exactly when the DEAD row exists. `batchId`: the
 * webhook-id of the batch it went out in (batched sinks).
 */
export type DeadLetter = DeadLetterV1;

/** A failed attempt's result (successes are recorded in bulk, see DeliveredRecorder). */
export type FailedOutcome = Exclude<AttemptOutcome, { kind: 'delivered' }>;

/**
 * Writes a failed attempt's result for its deliveries (one, or a batch's, which always move
 * together) in one transaction of the sink's tenant: FAILED + sink DISABLED on 410; otherwise the
 * next retry (for a batch: of the whole batch, under the same batch id, so the same webhook-id) or
 * DEAD with one `webhook.dead-lettered.v1` outbox event per delivery; and the sink's
 * continuous-failure window. Rows no longer PENDING are left alone.
 */
export async function recordOutcome(
  db: Db,
  o: {
    sink: StreamSink;
    /** The deliveries of the attempt, in order, with their events. */
    rows: readonly { deliveryId: string; event: unknown }[];
    /** Attempts made before this one (a batch's rows share it). */
    attempts: number;
    /** The batch's id (batched sinks): written on every row. */
    batchId?: string;
    outcome: FailedOutcome;
    policy: DeliveryPolicy;
  },
): Promise<{ dead?: DeadLetter[]; disabled?: string }> {
  const { sink, outcome } = o;
  const now = new Date();
  const attempts = o.attempts + 1;
  const where = { id: { in: o.rows.map((r) => r.deliveryId) }, status: 'PENDING' as const };
  const batch = o.batchId ? { batchId: o.batchId } : {};
  return withTenant(db, sink.tenantId, async (tx) => {
    if (outcome.kind === 'gone') {
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
          ...batch,
        },
      });
      await tx.streamSink.update({ where: { id: sink.id }, data: { status: 'DISABLED', disabledReason: reason } });
      return { disabled: reason };
    }
    const status = outcome.kind === 'failed' ? outcome.status : null;
    const body = outcome.kind === 'failed' ? outcome.body : null;
    const next = afterFailure(attempts, o.policy);
    const isDead = next.kind === 'dead';
    await tx.delivery.updateMany({
      where,
      data: {
        status: isDead ? 'DEAD' : 'PENDING',
        attempts,
        lastStatusCode: status,
        lastError: outcome.error,
        responseBody: body,
        nextAttemptAt: isDead ? null : new Date(now.getTime() + next.delayMs),
        ...batch,
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
    if (!isDead) return disabled ? { disabled } : {};
    const dead = o.rows.map((r): DeadLetter => ({
      deliveryId: r.deliveryId,
      sinkId: sink.id,
      tenantId: sink.tenantId,
      attempts,
      lastStatusCode: status,
      lastError: outcome.error,
      deadAt: now.toISOString(),
      event: r.event,
      ...batch,
    }));
    // Same transaction as the DEAD rows: the relay publishes them to the dead-letter topic.
    await appendOutbox(
      tx,
      dead.map((letter) => deadLetters.event(letter, now)),
    );
    return { dead, ...(disabled ? { disabled } : {}) };
  });
}
