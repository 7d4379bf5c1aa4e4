/**
 * Fleet state maintained in the point-write transaction (hooks of `recordPoints`): the tenant's
 * ingest filters, the session's running summary and the device's last point / last contact.
 * One statement before the write (session lock + settings + summary), one after (summary and
 * device upserts); a late point (older than the session's newest) re-runs the summary's fold from
 * the latest anchor before it, reading at most `REFOLD_MAX_POINTS` stored points.
 */
import { pointJsonArgsSql, type PointField } from '@lt/events';
import type { RecordHooks, WriteRow } from '../data/points';
import type { Sql } from '../data/raw';
import type { LocationInput } from '../validation';
import { filterReason, filtersActive, type FilterSettings } from './filters';
import {
  emptyState,
  emptyTotals,
  fold,
  refoldOrigin,
  type FoldPoint,
  type FoldState,
  type StopRules,
  type Totals,
} from './summary';

export interface FleetOptions {
  /** Maintain summaries and devices and apply filters in the point transaction. Default true. */
  enabled?: boolean;
  stopMinSeconds?: number;
  stopRadiusMeters?: number;
  offlineAfterSeconds?: number;
}

export interface FleetRules extends StopRules {
  enabled: boolean;
  offlineAfterSeconds: number;
}

export const fleetRules = (o: FleetOptions = {}): FleetRules => ({
  enabled: o.enabled ?? true,
  minSeconds: o.stopMinSeconds ?? 120,
  radiusMeters: o.stopRadiusMeters ?? 50,
  offlineAfterSeconds: o.offlineAfterSeconds ?? 600,
});

/**
 * Points a late arrival may make the fold re-read. Past it, the late points still count in
 * pointCount, first/last time and maxSpeed, but the distance and stops after them are left as they
 * were (the error is bounded by the detour through those points) — see the README.
 */
/** The device's `last_point` (a point's wire shape): the SQL value of each field in the upsert below. */
const LAST_POINT_SQL: Record<PointField, string> = {
  id: '$5::text',
  latitude: '$6::float8',
  longitude: '$7::float8',
  accuracy: '$8::float8',
  altitude: '$9::float8',
  speed: '$10::float8',
  heading: '$11::float8',
  recordedAt: '$12::timestamptz',
  receivedAt: 'now()',
};

export const REFOLD_MAX_POINTS = 50_000;
const PAGE = 10_000;

const toFold = (p: LocationInput): FoldPoint => ({
  lat: p.latitude,
  lng: p.longitude,
  at: p.recordedAt.getTime(),
  speed: p.speed ?? null,
  accuracy: p.accuracy ?? null,
  altitude: p.altitude ?? null,
  heading: p.heading ?? null,
});

interface LockRow extends WriteRow {
  max_accuracy_meters: number | null;
  max_speed_mps: number | null;
  drop_duplicates: boolean | null;
  sum_count: number | null;
  first_at: Date | null;
  last_at: Date | null;
  distance_m: number | null;
  max_speed: number | null;
  state: FoldState | null;
}

/** Stored summary row → fold state and totals. */
function loaded(r: {
  sum_count: number | null;
  first_at: Date | null;
  last_at: Date | null;
  distance_m: number | null;
  max_speed: number | null;
  state: FoldState | null;
}): { state: FoldState; totals: Totals } {
  if (r.sum_count === null) return { state: emptyState(), totals: emptyTotals() };
  return {
    state: { stops: [], ...(r.state ?? {}) },
    totals: {
      pointCount: Number(r.sum_count),
      firstAt: r.first_at?.getTime() ?? null,
      lastAt: r.last_at?.getTime() ?? null,
      distance: Number(r.distance_m ?? 0),
      maxSpeed: r.max_speed === null ? null : Number(r.max_speed),
    },
  };
}

const POINT_COLUMNS = `latitude AS lat, longitude AS lng, recorded_at AS at, speed, accuracy, altitude, heading`;
interface PointColumns {
  lat: number;
  lng: number;
  at: Date;
  speed: number | null;
  accuracy: number | null;
  altitude: number | null;
  heading: number | null;
}
const fromRow = (r: PointColumns): FoldPoint => ({ ...r, at: r.at.getTime() });

/** Stored points of a session from `from` (ms) on, ascending, in pages; null past `limit` rows. */
async function readPoints(tx: Sql, sessionId: string, from: number | null, limit: number): Promise<FoldPoint[] | null> {
  const out: FoldPoint[] = [];
  let after: Date | null = from === null ? null : new Date(from - 1);
  for (;;) {
    const rows = await tx.$queryRawUnsafe<PointColumns[]>(
      `SELECT ${POINT_COLUMNS} FROM location_points
        WHERE tenant_id = app_current_tenant() AND session_id = $1::uuid
          AND ($2::timestamptz IS NULL OR recorded_at > $2::timestamptz)
        ORDER BY recorded_at LIMIT ${PAGE}`,
      sessionId,
      after,
    );
    for (const r of rows) out.push(fromRow(r));
    if (out.length > limit) return null;
    if (rows.length < PAGE) return out;
    after = rows.at(-1)!.at;
  }
}

/** Re-runs the fold over stored points (rebuild from scratch, or from the latest anchor before `earliest`). */
export async function refold(
  tx: Sql,
  sessionId: string,
  state: FoldState,
  totals: Totals,
  earliest: number | null,
  rules: StopRules,
  limit = Number.MAX_SAFE_INTEGER,
): Promise<{ state: FoldState; totals: Totals } | null> {
  const origin = earliest === null ? null : refoldOrigin(state, earliest);
  const points = await readPoints(tx, sessionId, origin?.from ?? null, limit);
  if (!points) return null;
  const next = origin?.state ?? emptyState();
  const t: Totals = { ...emptyTotals(), distance: origin?.distance ?? 0 };
  fold(next, t, points, rules);
  if (!origin) return { state: next, totals: t };
  return {
    state: next,
    totals: {
      pointCount: totals.pointCount,
      firstAt: totals.firstAt === null ? t.firstAt : Math.min(totals.firstAt, t.firstAt ?? Infinity),
      lastAt: Math.max(totals.lastAt ?? -Infinity, t.lastAt ?? -Infinity),
      distance: t.distance,
      maxSpeed: totals.maxSpeed === null ? t.maxSpeed : Math.max(totals.maxSpeed, t.maxSpeed ?? -Infinity),
    },
  };
}

export async function saveSummary(tx: Sql, tenantId: string, sessionId: string, state: FoldState, totals: Totals) {
  await tx.$executeRawUnsafe(
    `INSERT INTO session_summaries (session_id, tenant_id, point_count, first_at, last_at, distance_m, max_speed, state)
     VALUES ($1::uuid, $2::uuid, $3, $4::timestamptz, $5::timestamptz, $6, $7, $8::jsonb)
     ON CONFLICT (session_id) DO UPDATE SET point_count = EXCLUDED.point_count, first_at = EXCLUDED.first_at,
       last_at = EXCLUDED.last_at, distance_m = EXCLUDED.distance_m, max_speed = EXCLUDED.max_speed,
       state = EXCLUDED.state, updated_at = now()`,
    sessionId,
    tenantId,
    totals.pointCount,
    totals.firstAt === null ? null : new Date(totals.firstAt),
    totals.lastAt === null ? null : new Date(totals.lastAt),
    totals.distance,
    totals.maxSpeed,
    JSON.stringify(state),
  );
}

/** The newest stored point strictly before `at` (the filters' previous point of a late point). */
async function storedBefore(tx: Sql, sessionId: string, at: number): Promise<FoldPoint | null> {
  const rows = await tx.$queryRawUnsafe<PointColumns[]>(
    `SELECT ${POINT_COLUMNS} FROM location_points
      WHERE tenant_id = app_current_tenant() AND session_id = $1::uuid AND recorded_at < $2::timestamptz
      ORDER BY recorded_at DESC LIMIT 1`,
    sessionId,
    new Date(at),
  );
  return rows[0] ? fromRow(rows[0]) : null;
}

/** The hooks `recordPoints` runs in its transaction. */
export function fleetHooks(rules: FleetRules): RecordHooks {
  // The summary read by `before`, used by `after` of the same transaction.
  const pending = new WeakMap<Sql, { state: FoldState; totals: Totals }>();
  return {
    async before(tx, _scope, sessionId, inputs) {
      const rows = await tx.$queryRawUnsafe<LockRow[]>(
        `SELECT s.user_id AS s_user_id, s.status::text AS s_status, s.started_at AS s_started_at,
           s.device_id AS s_device_id, s.point_count AS s_point_count,
           t.max_accuracy_meters, t.max_speed_mps, t.drop_duplicates,
           ss.point_count AS sum_count, ss.first_at, ss.last_at, ss.distance_m, ss.max_speed, ss.state
         FROM location_sessions s
         LEFT JOIN tenants t ON t.id = s.tenant_id
         LEFT JOIN session_summaries ss ON ss.session_id = s.id
         WHERE s.id = $1::uuid FOR UPDATE OF s`,
        sessionId,
      );
      const row = rows[0];
      if (!row) return { session: null, write: inputs, filtered: [] };
      const stored = loaded(row);
      pending.set(tx, stored);
      const settings: FilterSettings = {
        maxAccuracyMeters: row.max_accuracy_meters,
        maxSpeedMetersPerSecond: row.max_speed_mps,
        dropDuplicates: row.drop_duplicates ?? false,
      };
      if (!filtersActive(settings) || row.s_status !== 'ACTIVE') return { session: row, write: inputs, filtered: [] };
      if (stored.state.rebuild) {
        const rebuilt = await refold(tx, sessionId, stored.state, stored.totals, null, rules);
        if (rebuilt) {
          stored.state = rebuilt.state;
          stored.totals = rebuilt.totals;
        }
      }
      // In recordedAt order; "previous" is the newest accepted point recorded before each.
      const order = inputs.map((p, i) => ({ p: toFold(p), i })).sort((a, b) => a.p.at - b.p.at);
      const last = stored.state.last ?? null;
      const accepted: FoldPoint[] = [];
      const filtered: { index: number; reason: string }[] = [];
      for (const { p, i } of order) {
        const inBatch = accepted.at(-1) ?? null;
        // A late point's previous stored point is looked up (one indexed read per late point).
        const inStore = last === null ? null : last.at < p.at ? last : await storedBefore(tx, sessionId, p.at);
        const prev = !inBatch ? inStore : !inStore ? inBatch : inBatch.at >= inStore.at ? inBatch : inStore;
        const reason = filterReason(settings, p, prev);
        if (reason) filtered.push({ index: i, reason });
        else accepted.push(p);
      }
      if (filtered.length === 0) return { session: row, write: inputs, filtered };
      const dropped = new Set(filtered.map((f) => f.index));
      return { session: row, write: inputs.filter((_, i) => !dropped.has(i)), filtered };
    },

    async after(tx, scope, sessionId, session, written) {
      let stored = pending.get(tx);
      pending.delete(tx);
      if (!stored) {
        const rows = await tx.$queryRawUnsafe<LockRow[]>(
          `SELECT point_count AS sum_count, first_at, last_at, distance_m, max_speed, state
             FROM session_summaries WHERE session_id = $1::uuid`,
          sessionId,
        );
        stored = rows[0] ? loaded(rows[0]) : { state: emptyState(), totals: emptyTotals() };
      }
      const byTime = new Map(written.inputs.map((p) => [p.recordedAt.getTime(), p]));
      const points = written.inserted
        .map((r) => byTime.get(r.recordedAt.getTime()))
        .filter((p): p is LocationInput => p !== undefined)
        .map(toFold)
        .sort((a, b) => a.at - b.at);
      let { state, totals } = stored;
      const lastAt = state.last?.at ?? null;
      if (state.rebuild) {
        // Sessions recorded before summaries existed: one full fold (the new points are stored already).
        ({ state, totals } = (await refold(tx, sessionId, state, totals, null, rules))!);
      } else if (lastAt !== null && points[0]!.at <= lastAt) {
        const redone = await refold(tx, sessionId, state, totals, points[0]!.at, rules, REFOLD_MAX_POINTS);
        if (redone) {
          ({ state, totals } = redone);
          totals.pointCount += points.length;
        } else {
          // Bounded error: late points are counted, timed and max-speeded; the fold is not re-run.
          for (const p of points.filter((q) => q.at <= lastAt)) {
            totals.pointCount++;
            totals.firstAt = Math.min(totals.firstAt ?? p.at, p.at);
            if (p.speed !== null && p.speed !== undefined)
              totals.maxSpeed = Math.max(totals.maxSpeed ?? p.speed, p.speed);
          }
          fold(
            state,
            totals,
            points.filter((q) => q.at > lastAt),
            rules,
          );
        }
      } else {
        fold(state, totals, points, rules);
      }
      await saveSummary(tx, scope.tenantId, sessionId, state, totals);
      if (session.s_device_id === null) return;
      // The newest point written (ids from the write, fields from the input; received_at = now()).
      const newest = written.inserted.reduce((a, b) => (b.recordedAt > a.recordedAt ? b : a));
      const input = byTime.get(newest.recordedAt.getTime())!;
      await tx.$executeRawUnsafe(
        `INSERT INTO devices AS d (tenant_id, user_id, device_id, active_session_id, last_session_id, last_point,
           last_recorded_at, last_seen_at)
         VALUES ($1::uuid, $2::uuid, $3, $4::uuid, $4::uuid,
           jsonb_build_object(${pointJsonArgsSql((f) => LAST_POINT_SQL[f])}),
           $12::timestamptz, now())
         ON CONFLICT (tenant_id, user_id, device_id) DO UPDATE SET
           last_point = CASE WHEN d.last_recorded_at IS NULL OR EXCLUDED.last_recorded_at >= d.last_recorded_at
                             THEN EXCLUDED.last_point ELSE d.last_point END,
           last_recorded_at = greatest(d.last_recorded_at, EXCLUDED.last_recorded_at),
           active_session_id = EXCLUDED.active_session_id, last_session_id = EXCLUDED.last_session_id,
           last_seen_at = now(), updated_at = now()`,
        scope.tenantId,
        session.s_user_id,
        session.s_device_id,
        sessionId,
        newest.id,
        input.latitude,
        input.longitude,
        input.accuracy ?? null,
        input.altitude ?? null,
        input.speed ?? null,
        input.heading ?? null,
        newest.recordedAt,
      );
    },
  };
}

/** A session start is a device's contact: its row exists (online, active session) before the first point. */
export async function touchDeviceOnStart(
  tx: Sql,
  s: { tenantId: string; userId: string; deviceId: string | null; id: string },
): Promise<void> {
  if (s.deviceId === null) return;
  await tx.$executeRawUnsafe(
    `INSERT INTO devices AS d (tenant_id, user_id, device_id, active_session_id, last_session_id, last_seen_at)
     VALUES ($1::uuid, $2::uuid, $3, $4::uuid, $4::uuid, now())
     ON CONFLICT (tenant_id, user_id, device_id) DO UPDATE SET active_session_id = EXCLUDED.active_session_id,
       last_session_id = EXCLUDED.last_session_id, last_seen_at = now(), updated_at = now()`,
    s.tenantId,
    s.userId,
    s.deviceId,
    s.id,
  );
}
