import { eventKey } from '../envelope';
import { invalid, iso, num, obj, optNum, str, valid, type Validation } from '../validate';

/** `geofence-events`: ENTER / EXIT / DWELL transitions, keyed `tenantId:sessionId`. */
export const name = 'geofence-events';
export const types = ['geofence.entered.v1', 'geofence.exited.v1', 'geofence.dwelled.v1'] as const;
export type GeofenceEventType = (typeof types)[number];

export const key = (tenantId: string, sessionId: string): string => eventKey(tenantId, sessionId);

export type Transition = 'ENTER' | 'EXIT' | 'DWELL';

/** The event type of each transition. */
export const typeOf: Record<Transition, GeofenceEventType> = {
  ENTER: 'geofence.entered.v1',
  EXIT: 'geofence.exited.v1',
  DWELL: 'geofence.dwelled.v1',
};

export interface GeofenceEventV1 {
  geofenceId: string;
  sessionId: string;
  userId: string;
  pointId: string;
  type: Transition;
  latitude: number;
  longitude: number;
  accuracy: number | null;
  /** The point's recordedAt, ISO-8601. */
  at: string;
}

/** What the builder reads: one transition a point caused. */
export interface TransitionLike {
  geofenceId: string;
  type: Transition;
  point: { id: string; latitude: number; longitude: number; accuracy: number | null; recordedAt: number | Date };
}

/** Builder: a transition of a session's point -> its payload. */
export function payload(sessionId: string, userId: string, t: TransitionLike): GeofenceEventV1 {
  return {
    geofenceId: t.geofenceId,
    sessionId,
    userId,
    pointId: t.point.id,
    type: t.type,
    latitude: t.point.latitude,
    longitude: t.point.longitude,
    accuracy: t.point.accuracy,
    at: new Date(t.point.recordedAt).toISOString(),
  };
}

/** Validator: unknown -> a geofence event payload (extra keys are dropped). */
export function validate(data: unknown): Validation<GeofenceEventV1> {
  if (!obj(data)) return invalid('geofence event: not an object');
  const { geofenceId, sessionId, userId, pointId, type, latitude, longitude, accuracy, at } = data;
  for (const [k, v] of Object.entries({ geofenceId, sessionId, userId, pointId }))
    if (!str(v)) return invalid(`geofence event.${k}: expected an id`);
  if (type !== 'ENTER' && type !== 'EXIT' && type !== 'DWELL')
    return invalid('geofence event.type: expected ENTER, EXIT or DWELL');
  if (!num(latitude) || !num(longitude)) return invalid('geofence event: latitude/longitude expected numbers');
  if (!optNum(accuracy)) return invalid('geofence event.accuracy: expected a number or null');
  if (!iso(at)) return invalid('geofence event.at: expected ISO-8601');
  return valid({
    geofenceId: geofenceId as string,
    sessionId: sessionId as string,
    userId: userId as string,
    pointId: pointId as string,
    type,
    latitude,
    longitude,
    accuracy,
    at,
  });
}
