import { validatePoint, type PointPayload } from './point';
import { iso, obj, str } from './validate';

/**
 * The live-event contract on each tenant's `live` channel: what the location subgraph publishes
 * after a commit and what router replicas fan out to subscribers. Events carry ids; a small
 * point batch also carries the location subgraph's own public fields (`payload`), so the router
 * can serve selections that touch only those without re-reading the event through the
 * supergraph. Everything else is re-read as the subscriber (visibility re-checked upstream).
 */

/** A recorded point's public fields (LocationPoint), DateTimes as ISO-8601: declared in `POINT_FIELDS`. */
export type LivePoint = PointPayload;

/** The session's state right after the commit (LocationSession's own scalar fields + owner). */
export interface LiveSessionState {
  id: string;
  /** Owner (MEMBER subscribers only see their own); equals the event's userId. */
  userId: string;
  status: 'ACTIVE' | 'ENDED';
  deviceId: string | null;
  startedAt: string;
  endedAt: string | null;
  pointCount: number;
}

/** Batches up to this many points carry their fields; larger ones carry ids only. */
export const LIVE_PAYLOAD_MAX_POINTS = 50;

export type LiveEvent =
  | {
      kind: 'location';
      tenantId: string;
      sessionId: string;
      /** Owner of the session (MEMBER subscribers only see their own). */
      userId: string;
      /** Points committed together, oldest first. */
      points: { id: string; recordedAt: string }[];
      /**
       * Optional (≤ LIVE_PAYLOAD_MAX_POINTS points): the same points' fields, in the same order,
       * and the session after the commit.
       */
      payload?: { session: LiveSessionState; points: LivePoint[] };
      /** ms since epoch when the commit was published (delivery latency). */
      publishedAt: number;
    }
  | {
      kind: 'session';
      tenantId: string;
      sessionId: string;
      userId: string;
      type: 'STARTED' | 'ENDED';
      /** ISO-8601. */
      at: string;
      publishedAt: number;
    }
  | {
      /**
       * Events of this session were committed but never announced (the publish failed): its
       * subscribers are told to resync. Published as soon as the channel takes messages again.
       */
      kind: 'gap';
      tenantId: string;
      sessionId: string;
      userId: string;
      /** Which events were lost: `location` (points), `session` (started/ended) or `geofence`. */
      of: 'location' | 'session' | 'geofence';
      /** Events lost (points for `location`, transitions for `geofence`). */
      missed: number;
      publishedAt: number;
    }
  | {
      /** Geofence transitions committed with a session's points, oldest first (ids only: re-read). */
      kind: 'geofence';
      tenantId: string;
      sessionId: string;
      userId: string;
      events: { id: string; geofenceId: string }[];
      publishedAt: number;
    };

/** Builder: the session right after a point commit (points are only taken while it is ACTIVE). */
export function liveSessionState(s: {
  id: string;
  userId: string;
  deviceId: string | null;
  startedAt: Date;
  pointCount: number;
}): LiveSessionState {
  return {
    id: s.id,
    userId: s.userId,
    status: 'ACTIVE',
    deviceId: s.deviceId,
    startedAt: s.startedAt.toISOString(),
    endedAt: null,
    pointCount: s.pointCount,
  };
}

export function encodeLiveEvent(event: LiveEvent): string {
  return JSON.stringify(event);
}

function livePoint(v: unknown): LivePoint | null {
  const p = validatePoint(v);
  return p.ok ? p.value : null;
}

function liveSession(v: unknown): LiveSessionState | null {
  if (!obj(v)) return null;
  const { id, userId, status, deviceId, startedAt, endedAt, pointCount } = v;
  if (!str(id) || !str(userId) || (status !== 'ACTIVE' && status !== 'ENDED') || !iso(startedAt)) return null;
  if (!(deviceId === null || str(deviceId)) || !(endedAt === null || iso(endedAt))) return null;
  if (!Number.isSafeInteger(pointCount) || (pointCount as number) < 0) return null;
  return { id, userId, status, deviceId, startedAt, endedAt, pointCount: pointCount as number };
}

/**
 * The optional payload of a location event: must describe exactly the event's points (same ids,
 * same order) and its session and owner; anything else invalidates the whole event.
 */
function livePayload(
  v: unknown,
  e: { sessionId: string; userId: string; points: { id: string }[] },
): { session: LiveSessionState; points: LivePoint[] } | null {
  if (!obj(v) || !Array.isArray(v['points'])) return null;
  const raw = v['points'] as unknown[];
  if (raw.length !== e.points.length || raw.length > LIVE_PAYLOAD_MAX_POINTS) return null;
  const session = liveSession(v['session']);
  if (!session || session.id !== e.sessionId || session.userId !== e.userId) return null;
  const points: LivePoint[] = [];
  for (let i = 0; i < raw.length; i++) {
    const p = livePoint(raw[i]);
    if (!p || p.id !== e.points[i]!.id) return null;
    points.push(p);
  }
  return { session, points };
}

/** Validates a message from the wire (the one gate for everything a channel carries); null if bad. */
export function parseLiveEvent(message: string): LiveEvent | null {
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(message) as Record<string, unknown>;
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null) return null;
  if (!str(v['tenantId']) || !str(v['sessionId']) || !str(v['userId']) || typeof v['publishedAt'] !== 'number')
    return null;
  const base = {
    tenantId: v['tenantId'],
    sessionId: v['sessionId'],
    userId: v['userId'],
    publishedAt: v['publishedAt'],
  };
  if (v['kind'] === 'location') {
    const points = v['points'];
    if (!Array.isArray(points) || points.length === 0 || points.length > 1_000) return null;
    if (!points.every((p: unknown) => typeof p === 'object' && p !== null && str((p as { id?: unknown }).id)))
      return null;
    const ids = points as { id: string; recordedAt: string }[];
    if (v['payload'] === undefined) return { kind: 'location', ...base, points: ids };
    const payload = livePayload(v['payload'], { ...base, points: ids });
    return payload ? { kind: 'location', ...base, points: ids, payload } : null;
  }
  if (v['kind'] === 'gap' && (v['of'] === 'location' || v['of'] === 'session' || v['of'] === 'geofence')) {
    const missed = v['missed'];
    if (!Number.isSafeInteger(missed) || (missed as number) < 1) return null;
    return { kind: 'gap', ...base, of: v['of'], missed: missed as number };
  }
  if (v['kind'] === 'geofence') {
    const events = v['events'];
    if (!Array.isArray(events) || events.length === 0 || events.length > 10_000) return null;
    if (!events.every((e: unknown) => obj(e) && str(e['id']) && str(e['geofenceId']))) return null;
    const list = (events as { id: string; geofenceId: string }[]).map((e) => ({ id: e.id, geofenceId: e.geofenceId }));
    return { kind: 'geofence', ...base, events: list };
  }
  if (v['kind'] === 'session' && (v['type'] === 'STARTED' || v['type'] === 'ENDED') && str(v['at'])) {
    return { kind: 'session', ...base, type: v['type'], at: v['at'] };
  }
  return null;
}
