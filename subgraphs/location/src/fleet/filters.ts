/**
 * Per-tenant ingest filters (TenantSettings): a point is dropped — written nowhere, announced
 * nowhere — when its accuracy is worse than `maxAccuracyMeters`, when it repeats the previous
 * point exactly (every field but recordedAt; `dropDuplicates`), or when reaching it from the
 * previous point implies more than `maxSpeedMetersPerSecond`. "Previous" is the newest accepted
 * point recorded before it (stored or earlier in the same batch). Unset settings filter nothing.
 */
import { badUserInput } from '@lt/errors';
import type { RecordResult } from '../data/points';
import { haversineMeters } from './geo';
import type { FoldPoint } from './summary';

export type FilterReason = 'ACCURACY' | 'SPEED' | 'DUPLICATE';

export interface FilterSettings {
  maxAccuracyMeters: number | null;
  maxSpeedMetersPerSecond: number | null;
  dropDuplicates: boolean;
}

export const filtersActive = (s: FilterSettings): boolean =>
  s.maxAccuracyMeters !== null || s.maxSpeedMetersPerSecond !== null || s.dropDuplicates;

const same = (a: number | null | undefined, b: number | null | undefined): boolean => (a ?? null) === (b ?? null);

/** Why `p` is dropped given the previous accepted point, or null to keep it. */
export function filterReason(s: FilterSettings, p: FoldPoint, prev: FoldPoint | null): FilterReason | null {
  if (
    s.maxAccuracyMeters !== null &&
    p.accuracy !== null &&
    p.accuracy !== undefined &&
    p.accuracy > s.maxAccuracyMeters
  )
    return 'ACCURACY';
  if (!prev || prev.at >= p.at) return null;
  if (
    s.dropDuplicates &&
    prev.lat === p.lat &&
    prev.lng === p.lng &&
    same(prev.accuracy, p.accuracy) &&
    same(prev.altitude, p.altitude) &&
    same(prev.speed, p.speed) &&
    same(prev.heading, p.heading)
  )
    return 'DUPLICATE';
  if (s.maxSpeedMetersPerSecond !== null) {
    const speed = haversineMeters(prev.lat, prev.lng, p.lat, p.lng) / ((p.at - prev.at) / 1000);
    if (speed > s.maxSpeedMetersPerSecond) return 'SPEED';
  }
  return null;
}

/** `recordLocations`' `filtered`: counts by reason, in a fixed order. */
export function filteredCounts(r: Pick<RecordResult, 'filtered'>): { reason: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const f of r.filtered) counts.set(f.reason, (counts.get(f.reason) ?? 0) + 1);
  return ['ACCURACY', 'SPEED', 'DUPLICATE'].flatMap((reason) =>
    counts.has(reason) ? [{ reason, count: counts.get(reason)! }] : [],
  );
}

/** `recordLocation` of a filtered point: BAD_USER_INPUT naming the reason (a client must not retry it). */
export function filteredError(reason: string) {
  return badUserInput(`The point was dropped by the tenant's ingest filters (${reason})`, 'location', { reason });
}
