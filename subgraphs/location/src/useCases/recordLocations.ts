import { notFound } from '@lt/errors';
import type { Logger } from '@lt/logger';
import { findRetriedPoint, recordPoints, type PointRow, type RecordResult } from '../data/points';
import type { Scope } from '../data/scope';
import type { RecordingDeps } from '../deps';
import { geofenceLiveEvent, pointsLiveEvent } from '../events/liveEvents';
import { filteredError } from '../fleet/filters';
import type { LocationInput } from '../validation';

/**
 * Records validated points in one transaction (points, fleet state, geofence transitions and their
 * outbox rows: data/points.ts), then announces the points and, after them, the geofence
 * transitions (best effort, never awaited). `field(i)` names input i in errors.
 */
export async function recordLocations(
  d: RecordingDeps,
  scope: Scope,
  sessionId: string,
  inputs: LocationInput[],
  field: (i: number) => string,
  log: Logger,
): Promise<RecordResult> {
  const r = await recordPoints(d.db, scope, sessionId, inputs, field, d.fences, d.hooks);
  const points = pointsLiveEvent(scope.tenantId, r);
  if (points) d.live.announce(points, log);
  const geofences = geofenceLiveEvent(scope.tenantId, r);
  if (geofences) d.live.announce(geofences, log);
  return r;
}

/**
 * Records one validated point; a point the tenant's filters drop is BAD_USER_INPUT naming the
 * reason (nothing was written, so nothing was announced). A retry answers with the point the
 * first attempt stored.
 */
export async function recordLocation(
  d: RecordingDeps,
  scope: Scope,
  sessionId: string,
  location: LocationInput,
  log: Logger,
): Promise<PointRow> {
  const r = await recordLocations(d, scope, sessionId, [location], () => 'location', log);
  if (r.filtered[0]) throw filteredError(r.filtered[0].reason);
  if (r.stored) return r.stored;
  const stored = await findRetriedPoint(d.db, scope, sessionId, location);
  if (!stored) throw notFound('Location point');
  return stored;
}
