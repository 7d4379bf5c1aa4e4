import { eventKey } from '../envelope';
import type { OutboxEvent } from '../outbox';
import { invalid, iso, obj, str, valid, type Validation } from '../validate';

/** `webhook-dead-letters`: a delivery exhausted its retries; keyed `tenantId:sinkId`. */
export const name = 'webhook-dead-letters';
export const types = ['webhook.dead-lettered.v1'] as const;
export type DeadLetterType = (typeof types)[number];

export const key = (tenantId: string, sinkId: string): string => eventKey(tenantId, sinkId);

/** The `data` of a `webhook.dead-lettered.v1` event. */
export interface DeadLetterV1 {
  deliveryId: string;
  sinkId: string;
  tenantId: string;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  /** ISO-8601. */
  deadAt: string;
  /** The envelope that could not be delivered, as it was sent. */
  event: unknown;
  /** Set when the delivery was one of a batch. */
  batchId?: string;
}

/** Builder: the outbox event of a dead letter (written with the DEAD row, at `deadAt`). */
export function event(letter: DeadLetterV1, at: Date): OutboxEvent {
  return {
    topic: name,
    type: 'webhook.dead-lettered.v1',
    tenantId: letter.tenantId,
    entityId: letter.sinkId,
    data: { ...letter },
    occurredAt: at,
  };
}

/** Validator: unknown -> a dead letter (extra keys are dropped). */
export function validate(data: unknown): Validation<DeadLetterV1> {
  if (!obj(data)) return invalid('dead letter: not an object');
  const { deliveryId, sinkId, tenantId, attempts, lastStatusCode, lastError, deadAt, event: sent, batchId } = data;
  for (const [k, v] of Object.entries({ deliveryId, sinkId, tenantId }))
    if (!str(v)) return invalid(`dead letter.${k}: expected an id`);
  if (!Number.isSafeInteger(attempts) || (attempts as number) < 0)
    return invalid('dead letter.attempts: expected a count');
  if (!(lastStatusCode === null || Number.isSafeInteger(lastStatusCode)))
    return invalid('dead letter.lastStatusCode: expected an integer or null');
  if (!(lastError === null || (typeof lastError === 'string' && lastError.length <= 10_000)))
    return invalid('dead letter.lastError: expected a string or null');
  if (!iso(deadAt)) return invalid('dead letter.deadAt: expected ISO-8601');
  if (sent === undefined) return invalid('dead letter.event: missing');
  if (batchId !== undefined && !str(batchId)) return invalid('dead letter.batchId: expected an id');
  return valid({
    deliveryId: deliveryId as string,
    sinkId: sinkId as string,
    tenantId: tenantId as string,
    attempts: attempts as number,
    lastStatusCode: lastStatusCode as number | null,
    lastError,
    deadAt,
    event: sent,
    ...(batchId !== undefined ? { batchId } : {}),
  });
}
