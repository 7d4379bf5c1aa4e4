/**
 * A session's summary as a fold over its points in recordedAt order. The fold's state is stored
 * (session_summaries) and advanced by each committed batch, so reading a summary never scans points.
 *
 * - distance: great-circle sum over consecutive points;
 * - a stop: consecutive points staying within `radiusMeters` of the first of them (the anchor) for
 *   at least `minSeconds` (anchor time → last point inside the radius); its position is the anchor's;
 * - movingSeconds: duration minus the stops' durations; averageSpeed = distance / movingSeconds;
 * - maxSpeed: the largest reported `speed` (null when no point reported one).
 *
 * Out-of-order points: the fold is re-run from the latest anchor before the earliest late point
 * (an anchor's fold state depends only on the points before it), see `refoldOrigin`.
 */
import { haversineMeters } from './geo';

export interface FoldPoint {
  lat: number;
  lng: number;
  /** recordedAt, ms since epoch. */
  at: number;
  speed?: number | null;
  accuracy?: number | null;
  altitude?: number | null;
  heading?: number | null;
}

/** A completed stop; `d` is the cumulative distance at its anchor (a refold restarts from it). */
export interface StoredStop {
  lat: number;
  lng: number;
  s: number;
  e: number;
  d: number;
}

export interface FoldState {
  /** Set for sessions recorded before summaries existed: rebuild from the points once. */
  rebuild?: boolean;
  /** The newest point folded (the previous point of the filters and of the next distance step). */
  last?: FoldPoint;
  /** First point of the current stop candidate, with the cumulative distance at it. */
  anchor?: FoldPoint & { d: number };
  /** Time of the last point within the radius of the anchor. */
  candLast?: number;
  stops: StoredStop[];
}

export interface Totals {
  pointCount: number;
  firstAt: number | null;
  lastAt: number | null;
  distance: number;
  maxSpeed: number | null;
}

export interface StopRules {
  minSeconds: number;
  radiusMeters: number;
}

export const emptyState = (): FoldState => ({ stops: [] });
export const emptyTotals = (): Totals => ({ pointCount: 0, firstAt: null, lastAt: null, distance: 0, maxSpeed: null });

/** Folds points (ascending `at`, all after `state.last`) into state and totals, in place. */
export function fold(state: FoldState, totals: Totals, points: readonly FoldPoint[], rules: StopRules): void {
  const minMs = rules.minSeconds * 1000;
  for (const p of points) {
    if (state.last) totals.distance += haversineMeters(state.last.lat, state.last.lng, p.lat, p.lng);
    if (p.speed !== null && p.speed !== undefined)
      totals.maxSpeed = totals.maxSpeed === null ? p.speed : Math.max(totals.maxSpeed, p.speed);
    totals.pointCount++;
    totals.firstAt = totals.firstAt === null ? p.at : Math.min(totals.firstAt, p.at);
    totals.lastAt = totals.lastAt === null ? p.at : Math.max(totals.lastAt, p.at);
    const a = state.anchor;
    if (a && haversineMeters(a.lat, a.lng, p.lat, p.lng) <= rules.radiusMeters) {
      state.candLast = p.at;
    } else {
      if (a && state.candLast !== undefined && state.candLast - a.at >= minMs)
        state.stops.push({ lat: a.lat, lng: a.lng, s: a.at, e: state.candLast, d: a.d });
      state.anchor = { ...p, d: totals.distance };
      state.candLast = p.at;
    }
    state.last = p;
  }
}

/**
 * Where to re-run the fold from when points at or after `earliest` arrive late: the latest anchor
 * (a completed stop's, or the open candidate's) strictly before `earliest`, with the state as it
 * was right before that anchor was folded. Null: from the first point, with an empty state.
 */
export function refoldOrigin(
  state: FoldState,
  earliest: number,
): { from: number; state: FoldState; distance: number } | null {
  const anchors = [
    ...state.stops.map((s, i) => ({ at: s.s, d: s.d, keep: i })),
    ...(state.anchor ? [{ at: state.anchor.at, d: state.anchor.d, keep: state.stops.length }] : []),
  ].filter((a) => a.at < earliest);
  const origin = anchors.at(-1);
  if (!origin) return null;
  // The anchor point is folded again first: no distance step into it (last unset), its own `d` kept.
  return { from: origin.at, state: { stops: state.stops.slice(0, origin.keep) }, distance: origin.d };
}

export interface Stop {
  latitude: number;
  longitude: number;
  startedAt: Date;
  endedAt: Date | null;
  durationSeconds: number;
}

export interface SessionSummary {
  distanceMeters: number;
  durationSeconds: number;
  movingSeconds: number;
  maxSpeed: number | null;
  averageSpeed: number | null;
  stops: Stop[];
}

/** The API's summary from the stored fold; an open candidate long enough is a stop (ongoing while the session is ACTIVE). */
export function present(state: FoldState, totals: Totals, rules: StopRules, active: boolean): SessionSummary {
  const stops: Stop[] = state.stops.map((s) => ({
    latitude: s.lat,
    longitude: s.lng,
    startedAt: new Date(s.s),
    endedAt: new Date(s.e),
    durationSeconds: Math.floor((s.e - s.s) / 1000),
  }));
  const a = state.anchor;
  if (a && state.candLast !== undefined && state.candLast - a.at >= rules.minSeconds * 1000)
    stops.push({
      latitude: a.lat,
      longitude: a.lng,
      startedAt: new Date(a.at),
      endedAt: active ? null : new Date(state.candLast),
      durationSeconds: Math.floor((state.candLast - a.at) / 1000),
    });
  const durationSeconds =
    totals.firstAt !== null && totals.lastAt !== null ? Math.floor((totals.lastAt - totals.firstAt) / 1000) : 0;
  const stopped = stops.reduce((n, s) => n + s.durationSeconds, 0);
  const movingSeconds = Math.max(0, durationSeconds - stopped);
  return {
    distanceMeters: totals.distance,
    durationSeconds,
    movingSeconds,
    maxSpeed: totals.maxSpeed,
    averageSpeed: movingSeconds > 0 ? totals.distance / movingSeconds : null,
    stops,
  };
}
