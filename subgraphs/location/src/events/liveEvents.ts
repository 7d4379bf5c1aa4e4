/** Pure builders of the location subgraph's live events (announced after commit by the use cases). */
import { liveSessionState, pointPayload, type LiveEvent } from '@lt/events';
import type { PointRow, RecordResult } from '../data/points';
import type { SessionRow } from '../data/sessions';

/** The live event's payload: the committed points' public fields and the session after the commit. */
function livePayload(r: RecordResult, rows: PointRow[]) {
  return {
    session: liveSessionState({ id: r.sessionId, userId: r.userId, ...r.session }),
    points: rows.map(pointPayload),
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
