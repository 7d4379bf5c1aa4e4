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

const byFence = (a: Transition, b: Transition) => (a.geofenceId < b.geofenceId ? -1 : 1);

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
 * Per point: EXITs, then DWELLs, then ENTERs, each by fence id. Visits of fences not in the index
 * are kept as they are.
 *
 * The common point — outside every fence's bounding box, in a session inside no fence — costs one
 * R-tree search and allocates nothing.
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
    const candidates = index.candidates(p.latitude, p.longitude);
    if (visits.size === 0 && candidates.length === 0) continue;
    const acc = p.accuracy ?? 0;
    const start = transitions.length;
    let exited: Set<string> | null = null;
    if (visits.size > 0) {
      let dwells: Transition[] | null = null;
      for (const [id, v] of visits) {
        const f = index.byId.get(id);
        if (!f) continue;
        if (!f.contains(p.latitude, p.longitude) && (acc === 0 || f.borderDistance(p.latitude, p.longitude) >= acc)) {
          visits.delete(id);
          (exited ??= new Set()).add(id);
          transitions.push({ type: 'EXIT', geofenceId: id, point: p });
          continue;
        }
        if (f.dwellSeconds !== null && !v.dwelled && p.recordedAt - v.enteredAt >= f.dwellSeconds * 1000) {
          visits.set(id, { enteredAt: v.enteredAt, dwelled: true });
          (dwells ??= []).push({ type: 'DWELL', geofenceId: id, point: p });
        }
      }
      if (transitions.length - start > 1) sortTail(transitions, start);
      if (dwells) transitions.push(...dwells.sort(byFence));
    }
    const enters = transitions.length;
    for (const f of candidates) {
      if (visits.has(f.id) || exited?.has(f.id)) continue;
      if (!f.contains(p.latitude, p.longitude)) continue;
      if (acc > 0 && f.borderDistance(p.latitude, p.longitude) < acc) continue;
      visits.set(f.id, { enteredAt: p.recordedAt, dwelled: false });
      transitions.push({ type: 'ENTER', geofenceId: f.id, point: p });
    }
    if (transitions.length - enters > 1) sortTail(transitions, enters);
  }
  return { transitions, visits, lastEvaluatedAt: last };
}

/** Sorts `a[from..]` by fence id in place. */
function sortTail(a: Transition[], from: number): void {
  const tail = a.splice(from).sort(byFence);
  for (const t of tail) a.push(t);
}
