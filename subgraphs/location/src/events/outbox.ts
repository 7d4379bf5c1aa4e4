import { Topic, type OutboxEvent } from '@lt/events';
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

/**
 * `location.recorded.v1` on `location-updates`, keyed `tenantId:sessionId` (one session's points
 * stay ordered), one per new point, payload `{ sessionId, userId, pointId, latitude, longitude,
 * accuracy, altitude, speed, heading, recordedAt, receivedAt }`. Written set-based in the same
 * statement as the points (data/points.ts `writePoints`) for batch speed.
 */
export type LocationRecordedV1 = {
  sessionId: string;
  userId: string;
  pointId: string;
  latitude: number;
  longitude: number;
  accuracy: number | null;
  altitude: number | null;
  speed: number | null;
  heading: number | null;
  recordedAt: string;
  receivedAt: string;
};
