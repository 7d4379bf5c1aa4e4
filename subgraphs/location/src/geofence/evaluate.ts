import type { FenceIndex } from './fenceIndex';

export type GeofenceEventType = 'ENTER' | 'EXIT' | 'DWELL';

export interface EvalPoint {
  id: string;
  latitude: number;
  longitude: number;
  accuracy: number | null;
  /** ms since epoch. */
  recordedAt: number;
}

export interface Visit {
  /** ms since epoch: the ENTER point's recordedAt. */
  enteredAt: number;
  dwelled: boolean;
}

export interface Transition {
  type: GeofenceEventType;
  geofenceId: string;
  point: EvalPoint;
}

export interface Evaluation {
  transitions: Transition[];
  /** The session's visits after these points (fence id → visit). */
  visits: Map<string, Visit>;
  /** recordedAt of the newest point evaluated (unchanged if none was newer than `lastEvaluatedAt`). */
  lastEvaluatedAt: number | null;
}

/**
 * Runs a session's new points (oldest first) through its fences, starting from its stored visits.
 * Pure: the caller reads the state and writes the result in the point's transaction.
 *
 * - ENTER: the point is inside a fence the session is not in, and its accuracy circle lies wholly
 *   inside (distance to the border ≥ accuracy);
 * - EXIT: the point is outside a fence the session is in, its accuracy circle wholly outside;
 * - a point whose accuracy circle crosses the border changes nothing (no flapping);
 * - DWELL: once per visit, at the first point that does not end the visit and is at least
 *   `dwellSeconds` (by recordedAt) after the ENTER;
 * - points not newer than `lastEvaluatedAt` (out of order) change nothing.
 * Per point: EXITs, then DWELLs, then ENTERs. Visits of fences not in the index are kept as they are.
 */
export function evaluatePoints(
  index: FenceIndex,
  stored: Map<string, Visit>,
  points: EvalPoint[],
  lastEvaluatedAt: number | null,
): Evaluation {
  const visits = new Map(stored);
  const transitions: Transition[] = [];
  let last = lastEvaluatedAt;
  for (const p of points) {
    if (last !== null && p.recordedAt <= last) continue;
    last = p.recordedAt;
    const acc = p.accuracy ?? 0;
    const exits: Transition[] = [];
    const dwells: Transition[] = [];
    for (const [id, v] of visits) {
      const f = index.byId.get(id);
      if (!f) continue;
      if (!f.contains(p.latitude, p.longitude) && (acc === 0 || f.borderDistance(p.latitude, p.longitude) >= acc)) {
        visits.delete(id);
        exits.push({ type: 'EXIT', geofenceId: id, point: p });
        continue;
      }
      if (f.dwellSeconds !== null && !v.dwelled && p.recordedAt - v.enteredAt >= f.dwellSeconds * 1000) {
        visits.set(id, { enteredAt: v.enteredAt, dwelled: true });
        dwells.push({ type: 'DWELL', geofenceId: id, point: p });
      }
    }
    const enters: Transition[] = [];
    for (const f of index.candidates(p.latitude, p.longitude)) {
      if (visits.has(f.id) || exits.some((e) => e.geofenceId === f.id)) continue;
      if (!f.contains(p.latitude, p.longitude)) continue;
      if (acc > 0 && f.borderDistance(p.latitude, p.longitude) < acc) continue;
      visits.set(f.id, { enteredAt: p.recordedAt, dwelled: false });
      enters.push({ type: 'ENTER', geofenceId: f.id, point: p });
    }
    const byFence = (a: Transition, b: Transition) => (a.geofenceId < b.geofenceId ? -1 : 1);
    transitions.push(...exits.sort(byFence), ...dwells.sort(byFence), ...enters.sort(byFence));
  }
  return { transitions, visits, lastEvaluatedAt: last };
}
