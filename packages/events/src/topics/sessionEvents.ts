import { eventKey } from '../envelope';
import type { OutboxEvent } from '../outbox';
import { invalid, iso, obj, str, valid, type Validation } from '../validate';

/** `session-events`: a session started or ended, keyed `tenantId:sessionId`. */
export const name = 'session-events';
export const types = ['session.started.v1', 'session.ended.v1'] as const;
export type SessionEventType = (typeof types)[number];

export const key = (tenantId: string, sessionId: string): string => eventKey(tenantId, sessionId);

export interface SessionEventV1 {
  sessionId: string;
  userId: string;
  deviceId: string | null;
  /** ISO-8601. */
  startedAt: string;
  /** ISO-8601; null while the session is active. */
  endedAt: string | null;
}

/** What the builder reads from a session. */
export interface SessionLike {
  id: string;
  tenantId: string;
  userId: string;
  deviceId: string | null;
  startedAt: Date;
  endedAt: Date | null;
}

/** Builder: a session -> its payload. */
export function payload(s: SessionLike): SessionEventV1 {
  return {
    sessionId: s.id,
    userId: s.userId,
    deviceId: s.deviceId,
    startedAt: s.startedAt.toISOString(),
    endedAt: s.endedAt ? s.endedAt.toISOString() : null,
  };
}

/** The outbox event of a session's start or end, `at` the time of the change. */
export function event(type: SessionEventType, s: SessionLike, at: Date): OutboxEvent {
  return { topic: name, type, tenantId: s.tenantId, entityId: s.id, occurredAt: at, data: { ...payload(s) } };
}

/** Validator: unknown -> a session event payload (extra keys are dropped). */
export function validate(data: unknown): Validation<SessionEventV1> {
  if (!obj(data)) return invalid('session event: not an object');
  const { sessionId, userId, deviceId, startedAt, endedAt } = data;
  if (!str(sessionId)) return invalid('session event.sessionId: expected an id');
  if (!str(userId)) return invalid('session event.userId: expected an id');
  if (!(deviceId === null || str(deviceId))) return invalid('session event.deviceId: expected a string or null');
  if (!iso(startedAt)) return invalid('session event.startedAt: expected ISO-8601');
  if (!(endedAt === null || iso(endedAt))) return invalid('session event.endedAt: expected ISO-8601 or null');
  return valid({ sessionId, userId, deviceId, startedAt, endedAt });
}
