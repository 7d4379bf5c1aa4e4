import { sessionEvents, type OutboxEvent } from '@lt/events';
import type { SessionRow } from '../data/sessions';

/** `session.started.v1` / `session.ended.v1` on `session-events`, keyed `tenantId:sessionId`. */
export function sessionEvent(
  type: 'session.started.v1' | 'session.ended.v1',
  s: Pick<SessionRow, 'id' | 'tenantId' | 'userId' | 'deviceId' | 'startedAt' | 'endedAt'>,
  at: Date,
): OutboxEvent {
  return sessionEvents.event(type, s, at);
}
