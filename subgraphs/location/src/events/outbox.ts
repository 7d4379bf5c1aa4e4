import { Topic, type OutboxEvent } from '@lt/events';
import type { PointRow } from '../data/points';
import type { SessionRow } from '../data/sessions';

/** `session.started.v1` / `session.ended.v1` on `session-events`, keyed `tenantId:sessionId`. */
export function sessionEvent(
  type: 'session.started.v1' | 'session.ended.v1',
  s: Pick<SessionRow, 'id' | 'tenantId' | 'userId' | 'deviceId' | 'startedAt' | 'endedAt'>,
  at: Date,
): OutboxEvent {
  return {
    topic: Topic.SESSION_EVENTS,
    type,
    tenantId: s.tenantId,
    entityId: s.id,
    occurredAt: at,
    data: {
      sessionId: s.id,
      userId: s.userId,
      deviceId: s.deviceId,
      startedAt: s.startedAt.toISOString(),
      endedAt: s.endedAt ? s.endedAt.toISOString() : null,
    },
  };
}

/** One `location.recorded.v1` per new point on `location-updates`, keyed `tenantId:sessionId` (ordered). */
export function locationRecordedEvents(
  tenantId: string,
  sessionId: string,
  userId: string,
  points: PointRow[],
): OutboxEvent[] {
  return points.map((p) => ({
    topic: Topic.LOCATION_UPDATES,
    type: 'location.recorded.v1',
    tenantId,
    entityId: sessionId,
    occurredAt: p.receivedAt,
    data: {
      sessionId,
      userId,
      pointId: p.id,
      latitude: p.latitude,
      longitude: p.longitude,
      accuracy: p.accuracy,
      altitude: p.altitude,
      speed: p.speed,
      heading: p.heading,
      recordedAt: p.recordedAt.toISOString(),
      receivedAt: p.receivedAt.toISOString(),
    },
  }));
}
