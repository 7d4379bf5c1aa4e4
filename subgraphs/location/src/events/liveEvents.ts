/** Pure builders of the location subgraph's live events (announced after commit by the use cases). */
import type { LiveEvent } from '@lt/pubsub';
import type { PointRow, RecordResult } from '../data/points';
import type { SessionRow } from '../data/sessions';

/** The live event's payload: the committed points' public fields and the session after the commit. */
function livePayload(r: RecordResult, rows: PointRow[]) {
  return {
    session: {
      id: r.sessionId,
      userId: r.userId,
      status: 'ACTIVE' as const,
      deviceId: r.session.deviceId,
      startedAt: r.session.startedAt.toISOString(),
      endedAt: null,
      pointCount: r.session.pointCount,
    },
    points: rows.map((p) => ({
      id: p.id,
      latitude: p.latitude,
      longitude: p.longitude,
      accuracy: p.accuracy,
      altitude: p.altitude,
      speed: p.speed,
      heading: p.heading,
      recordedAt: p.recordedAt.toISOString(),
      receivedAt: p.receivedAt.toISOString(),
    })),
  };
}

/** A session started or ended at `at`. */
export const sessionLiveEvent = (s: SessionRow, type: 'STARTED' | 'ENDED', at: Date): LiveEvent => ({
  kind: 'session',
  tenantId: s.tenantId,
  sessionId: s.id,
  userId: s.userId,
  type,
  at: at.toISOString(),
  publishedAt: Date.now(),
});

/** The points a recording inserted (none: no event). Small batches carry their fields. */
export function pointsLiveEvent(tenantId: string, r: RecordResult): LiveEvent | null {
  if (r.inserted.length === 0) return null;
  return {
    kind: 'location',
    tenantId,
    sessionId: r.sessionId,
    userId: r.userId,
    points: r.inserted.map((p) => ({ id: p.id, recordedAt: p.recordedAt.toISOString() })),
    // Small batches carry their fields: the router serves location-only selections from it.
    ...(r.rows ? { payload: livePayload(r, r.rows) } : {}),
    publishedAt: Date.now(),
  };
}

/** The geofence transitions a recording produced (none: no event). */
export function geofenceLiveEvent(tenantId: string, r: RecordResult): LiveEvent | null {
  if (r.geofences.events.length === 0) return null;
  return {
    kind: 'geofence',
    tenantId,
    sessionId: r.sessionId,
    userId: r.userId,
    events: r.geofences.events.map((e) => ({ id: e.id, geofenceId: e.geofenceId })),
    publishedAt: Date.now(),
  };
}
