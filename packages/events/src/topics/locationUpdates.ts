import { eventKey } from '../envelope';
import type { OutboxEvent } from '../outbox';
import { pointJsonArgsSql, pointPayload, validatePoint, type PointPayload, type PointRecord } from '../point';
import { invalid, obj, str, valid, type Validation } from '../validate';

/**
 * `location-updates`: one `location.recorded.v1` per new point, keyed `tenantId:sessionId` (one
 * session's points stay in one partition, in order). The payload is the point's fields (its `id`
 * named `pointId`) plus the session and its owner.
 */
export const name = 'location-updates';
export const types = ['location.recorded.v1'] as const;
export type LocationUpdatesType = (typeof types)[number];

export const key = (tenantId: string, sessionId: string): string => eventKey(tenantId, sessionId);

export type LocationRecordedV1 = { sessionId: string; userId: string; pointId: string } & Omit<PointPayload, 'id'>;

/** Builder: a stored point of a session -> its `location.recorded.v1` payload. */
export function payload(sessionId: string, userId: string, point: PointRecord): LocationRecordedV1 {
  const { id, ...fields } = pointPayload(point);
  return { sessionId, userId, pointId: id, ...fields };
}

/** The outbox event of one recorded point. */
export function event(tenantId: string, sessionId: string, userId: string, point: PointRecord): OutboxEvent {
  return {
    topic: name,
    type: 'location.recorded.v1',
    tenantId,
    entityId: sessionId,
    occurredAt: point.receivedAt,
    data: payload(sessionId, userId, point),
  };
}

/**
 * The same payload built in SQL (the point write statement emits its outbox rows set-based):
 * a `jsonb_build_object(...)` of the session id and owner expressions and the point's fields read
 * from `alias` (a row with the `PointRecord` column names).
 */
export function payloadSql(sessionId: string, userId: string, alias: string): string {
  const fields = pointJsonArgsSql((f) => `${alias}."${f}"`, { id: 'pointId' });
  return `jsonb_build_object('sessionId', ${sessionId}, 'userId', ${userId}, ${fields})`;
}

/** Validator: unknown -> a `location.recorded.v1` payload (extra keys are dropped). */
export function validate(data: unknown): Validation<LocationRecordedV1> {
  if (!obj(data)) return invalid('location.recorded.v1: not an object');
  if (!str(data['sessionId'])) return invalid('location.recorded.v1.sessionId: expected an id');
  if (!str(data['userId'])) return invalid('location.recorded.v1.userId: expected an id');
  const point = validatePoint({ ...data, id: data['pointId'] });
  if (!point.ok) return invalid(`location.recorded.v1: ${point.error.replace('point.id', 'pointId')}`);
  const { id, ...fields } = point.value;
  return valid({ sessionId: data['sessionId'], userId: data['userId'], pointId: id, ...fields });
}
