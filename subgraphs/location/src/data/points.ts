import { isUuid } from '@lt/context';
import { withTenant, type Db, type Tx } from '@lt/db';
import {
  LIVE_PAYLOAD_MAX_POINTS,
  locationUpdates,
  pointColumnsSql,
  pointSelect as pointFieldsSelect,
  type PointRecord,
} from '@lt/events';
import { conflict, notFound } from '@lt/errors';
import { checkNotBeforeStart, type LocationInput } from '../validation';
import type { FenceIndexCache } from '../geofence/fenceIndex';
import { evaluateFences, type FenceOutcome } from './geofences';
import { type Scope } from './scope';

/** The columns of a point the API exposes (LocationPoint): the fields @lt/events declares. */
export const pointSelect = pointFieldsSelect;

export type PointRow = PointRecord;

export interface RecordResult {
  /** Points written by this call, oldest first. */
  inserted: { id: string; recordedAt: Date }[];
  /** The stored row, when a single point was written (recordLocation answers with it). */
  stored: PointRow | null;
  /** Inputs that were already stored (retries). */
  duplicates: number;
  sessionId: string;
  userId: string;
  /**
   * Full rows of the points written (oldest first) when the batch is small enough for the live
   * event to carry them (≤ LIVE_PAYLOAD_MAX_POINTS), else null.
   */
  rows: PointRow[] | null;
  /** The session right after this commit (it is ACTIVE: points are refused once it ended). */
  session: { deviceId: string | null; startedAt: Date; pointCount: number };
  /** Geofence transitions the points caused (written in the same transaction), oldest first. */
  geofences: FenceOutcome;
  /** Inputs the tenant's ingest filters dropped (written and announced nowhere), by input index. */
  filtered: { index: number; reason: string }[];
}

/**
 * Work other modules add to the point transaction (fleet state: filters, summaries, devices).
 * `before` runs first and takes the session lock; it returns the session row (null: not visible)
 * and the inputs to write. `after` runs once the checks passed, with the points written.
 */
export interface RecordHooks {
  before(
    tx: Tx,
    scope: Scope,
    sessionId: string,
    inputs: LocationInput[],
  ): Promise<{ session: WriteRow | null; write: LocationInput[]; filtered: { index: number; reason: string }[] }>;
  after(
    tx: Tx,
    scope: Scope,
    sessionId: string,
    session: WriteRow,
    written: { inputs: LocationInput[]; inserted: { id: string; recordedAt: Date }[] },
  ): Promise<void>;
}

/** One row of the write statement: the locked session, and one written point (nulls if none). */
export interface WriteRow {
  s_user_id: string;
  s_status: 'ACTIVE' | 'ENDED';
  s_started_at: Date;
  s_device_id: string | null;
  s_point_count: number | bigint;
  /**
   * The tenant's fence version (its row locked FOR SHARE), or null when it has no fences. Set on
   * one row only (the newest written point's), like the other `g_` columns.
   */
  g_version: string | null;
  /** The session's visits before this batch, as the statement's snapshot saw them. */
  g_visits: { g: string; e: string; d: boolean }[] | null;
  /** recordedAt of the session's newest point before this batch (null: none, or not in the snapshot). */
  g_last: Date | null;
  /** The locked session row is the one the snapshot saw (no batch committed in between). */
  g_fresh: boolean | null;
  /** The session's newest point before this batch (from the locked row). */
  g_last_point_id: string | null;
  id: string | null;
  latitude?: number;
  longitude?: number;
  accuracy?: number | null;
  altitude?: number | null;
  speed?: number | null;
  heading?: number | null;
  recordedAt: Date | null;
  receivedAt?: Date;
}

const RETURNING = pointColumnsSql;
/** Each written point's `location.recorded.v1` payload, built from the `ins` row `i`. */
const RECORDED_PAYLOAD = locationUpdates.payloadSql('$2::text', 'ok.user_id::text', 'i');

/**
 * Records points into a session, all or nothing, in one transaction and ONE statement: it locks
 * the session row (a concurrent stop or batch serialises with this one), writes only if the
 * session may take them (visible, the caller's own for MEMBERs, ACTIVE, not after any point),
 * inserts every point (skipping retries: `ON CONFLICT DO NOTHING` on (session, recordedAt), and a key already
 * claimed in location_point_keys), writes one `location.recorded.v1` outbox row per new point and bumps
 * the denormalised counters. The session comes back with the rows, so a refusal names its reason
 * (nothing was written). Four round trips for 1 or 1,000 points (BEGIN, tenant, write, COMMIT),
 * and the session lock is held for one statement and the commit only. In a tenant with geofences
 * the same statement also returns what their evaluation starts from (fence version, the session's
 * visits and newest point before the batch); a fifth round trip writes the transitions, only when
 * there are any.
 */
export async function recordPoints(
  db: Db,
  scope: Scope,
  sessionId: string,
  inputs: LocationInput[],
  fieldOf: (i: number) => string,
  fences?: FenceIndexCache,
  hooks?: RecordHooks,
): Promise<RecordResult> {
  if (!isUuid(sessionId)) throw notFound('Location session', 'sessionId');
  return withTenant(
    db,
    scope.tenantId,
    async (tx) => {
      const prepared = hooks ? await hooks.before(tx, scope, sessionId, inputs) : null;
      const write = prepared?.write ?? inputs;
      const rows =
        write.length > 0 || !prepared
          ? await writePoints(tx, scope, sessionId, write)
          : prepared.session
            ? [prepared.session]
            : [];
      const session = rows[0];
      if (!session || (scope.ownOnly && session.s_user_id !== scope.userId))
        throw notFound('Location session', 'sessionId');
      if (session.s_status === 'ENDED') throw conflict('The session has ended', 'sessionId');
      // The statement wrote nothing if a point precedes the start: name the first such point.
      checkNotBeforeStart(inputs, session.s_started_at, fieldOf);
      const inserted = rows
        .filter((r) => r.id !== null)
        .map((r) => {
          const {
            s_user_id: _u,
            s_status: _s,
            s_started_at: _t,
            s_device_id: _d,
            s_point_count: _c,
            g_version: _g,
            g_visits: _v,
            g_last: _l,
            g_fresh: _f,
            g_last_point_id: _p,
            ...point
          } = r;
          return point as PointRow;
        });
      inserted.sort((a, b) => a.recordedAt.getTime() - b.recordedAt.getTime() || a.id.localeCompare(b.id));
      const g = rows.find((r) => r.g_version !== null);
      const geofences =
        fences && g && inserted.length > 0
          ? await evaluateFences(tx, fences, {
              tenantId: scope.tenantId,
              sessionId,
              userId: session.s_user_id,
              points: evalPoints(write, inserted),
              version: BigInt(g.g_version!),
              before: g.g_fresh ? { visits: g.g_visits ?? [], last: g.g_last } : { lastPointId: g.g_last_point_id },
            })
          : { events: [] };
      if (hooks && inserted.length > 0) await hooks.after(tx, scope, sessionId, session, { inputs: write, inserted });
      return {
        inserted,
        stored: inputs.length === 1 ? ((inserted[0] as PointRow | undefined) ?? null) : null,
        duplicates: write.length - inserted.length,
        filtered: prepared?.filtered ?? [],
        sessionId,
        userId: session.s_user_id,
        rows: inputs.length <= LIVE_PAYLOAD_MAX_POINTS ? inserted : null,
        session: {
          deviceId: session.s_device_id,
          startedAt: session.s_started_at,
          // The row is locked: the count after this commit is the locked one plus what we wrote.
          pointCount: Number(session.s_point_count) + inserted.length,
        },
        geofences,
      };
    },
    { timeoutMs: 30_000 },
  );
}

/** The written points with their coordinates (the input with the same recordedAt: unique per session). */
function evalPoints(inputs: LocationInput[], inserted: { id: string; recordedAt: Date }[]) {
  const byTime = new Map<number, LocationInput>();
  for (const p of inputs) if (!byTime.has(p.recordedAt.getTime())) byTime.set(p.recordedAt.getTime(), p);
  return inserted.map((r) => {
    const p = byTime.get(r.recordedAt.getTime())!;
    return {
      id: r.id,
      latitude: p.latitude,
      longitude: p.longitude,
      accuracy: p.accuracy ?? null,
      recordedAt: r.recordedAt.getTime(),
    };
  });
}

/**
 * The session lock, the checks, the points, their outbox rows and the session counters in one
 * data-modifying statement. The outbox rows have exactly the shape `appendOutbox` (@lt/events)
 * writes — same topic, key, type and payload as `locationUpdates` builds
 * (@lt/events) — but set-based: `appendOutbox`'s Prisma `createMany` costs ~0.45 ms per row
 * (220 ms for 500), this whole statement ~15 ms for 500 points (bench/location). Returns one row
 * per written point with the session's columns (`s_…`), or one row with null point columns when
 * nothing was written, or no row when the session is not visible (RLS, or no such id).
 */
async function writePoints(tx: Tx, scope: Scope, sessionId: string, inputs: LocationInput[]): Promise<WriteRow[]> {
  const col = <T>(f: (p: LocationInput) => T): T[] => inputs.map(f);
  // A large batch answers with ids only: reading back 1,000 full rows would cost more than writing
  // them. Small ones (≤ LIVE_PAYLOAD_MAX_POINTS) return full rows for the live event's payload.
  const full = inputs.length <= LIVE_PAYLOAD_MAX_POINTS;
  const earliest = new Date(Math.min(...inputs.map((p) => p.recordedAt.getTime())));
  return tx.$queryRawUnsafe<WriteRow[]>(
    `WITH s AS (
       SELECT id, user_id, status, started_at, device_id, point_count, last_point_id FROM location_sessions
       WHERE id = $2::uuid FOR UPDATE
     ),
     -- The tenant's fences: the version row locked FOR SHARE (a fence change, which updates it,
     -- waits for this transaction, and this one for a change in progress: the locked row is the
     -- newest), so the points are evaluated wholly before or wholly after any change.
     g AS (
       SELECT version FROM geofence_tenant_state WHERE tenant_id = $1::uuid AND fence_count > 0 FOR SHARE
     ),
     -- What the evaluation starts from, read here to save a round trip. Only valid if no batch of
     -- this session committed between this statement's snapshot and its session lock (then the
     -- locked row's point_count differs from the snapshot's, and the caller reads it afresh).
     gs AS (
       SELECT g.version::text AS version,
         (SELECT json_agg(json_build_object('g', v.geofence_id, 'e', v.entered_at, 'd', v.dwelled))
          FROM geofence_visits v WHERE v.tenant_id = $1::uuid AND v.session_id = $2::uuid) AS visits,
         (SELECT max(p.recorded_at) FROM location_points p WHERE p.tenant_id = $1::uuid AND p.session_id = $2::uuid) AS last,
         s.point_count = (SELECT x.point_count FROM location_sessions x WHERE x.id = $2::uuid) AS fresh,
         s.last_point_id
       FROM g CROSS JOIN s
     ),
     ok AS (
       SELECT user_id FROM s
       WHERE status = 'ACTIVE' AND ($14::uuid IS NULL OR user_id = $14::uuid) AND started_at <= $15::timestamptz
     ),
     -- Idempotency keys are claimed first (unique per session across the points' partitions): a
     -- keyed point is written only if its key is new, once per key in the batch.
     keys AS (
       INSERT INTO location_point_keys (tenant_id, session_id, idempotency_key, recorded_at)
       SELECT $1::uuid, $2::uuid, u.ikey, u.rec FROM unnest($9::timestamptz[], $10::text[]) AS u(rec, ikey)
       CROSS JOIN ok WHERE u.ikey IS NOT NULL
       ON CONFLICT DO NOTHING
       RETURNING idempotency_key, recorded_at
     ),
     ins AS (
       INSERT INTO location_points (id, tenant_id, session_id, latitude, longitude, accuracy, altitude, speed,
         heading, recorded_at, idempotency_key, received_at, created_at, updated_at)
       SELECT gen_random_uuid(), $1::uuid, $2::uuid, u.lat, u.lng, u.acc, u.alt, u.spd, u.hdg, u.rec, u.ikey,
         now(), now(), now()
       FROM unnest($3::float8[], $4::float8[], $5::float8[], $6::float8[], $7::float8[], $8::float8[],
         $9::timestamptz[], $10::text[]) AS u(lat, lng, acc, alt, spd, hdg, rec, ikey)
       CROSS JOIN ok
       WHERE u.ikey IS NULL OR (u.ikey, u.rec) IN (SELECT k.idempotency_key, k.recorded_at FROM keys k)
       ON CONFLICT DO NOTHING
       RETURNING ${RETURNING}
     ),
     newest AS (SELECT id, "recordedAt" FROM ins ORDER BY "recordedAt" DESC, id DESC LIMIT 1),
     counters AS (
       UPDATE location_sessions ls SET
         point_count = ls.point_count + (SELECT count(*) FROM ins),
         last_point_id = CASE
           WHEN ls.last_point_id IS NULL
             OR n."recordedAt" >= (SELECT max(p.recorded_at) FROM location_points p WHERE p.tenant_id = $1::uuid AND p.session_id = $2::uuid)
           THEN n.id ELSE ls.last_point_id END,
         updated_at = now()
       FROM newest n
       WHERE ls.id = $2::uuid
     ),
     events AS (
       INSERT INTO outbox (id, tenant_id, topic, key, type, payload, occurred_at, created_at, updated_at)
       SELECT gen_random_uuid(), $1::uuid, $11, $12, $13,
         ${RECORDED_PAYLOAD},
         i."receivedAt", now(), now()
       FROM ins i CROSS JOIN ok ORDER BY i."recordedAt", i.id
     )
     SELECT s.user_id AS s_user_id, s.status::text AS s_status, s.started_at AS s_started_at,
       s.device_id AS s_device_id, s.point_count AS s_point_count,
       gs.version AS g_version, gs.visits AS g_visits, gs.last AS g_last, gs.fresh AS g_fresh,
       gs.last_point_id AS g_last_point_id,
       ${full ? 'i.*' : 'i.id, i."recordedAt"'}
     FROM s LEFT JOIN ins i ON true
       LEFT JOIN gs ON i.id IS NOT DISTINCT FROM (SELECT n.id FROM newest n)`,
    scope.tenantId,
    sessionId,
    col((p) => p.latitude),
    col((p) => p.longitude),
    col((p) => p.accuracy ?? null),
    col((p) => p.altitude ?? null),
    col((p) => p.speed ?? null),
    col((p) => p.heading ?? null),
    col((p) => p.recordedAt.toISOString()),
    col((p) => p.idempotencyKey ?? null),
    locationUpdates.name,
    locationUpdates.key(scope.tenantId, sessionId),
    'location.recorded.v1' satisfies locationUpdates.LocationUpdatesType,
    scope.ownOnly ? scope.userId : null,
    earliest.toISOString(),
  );
}

/** The stored point a retried single `recordLocation` refers to (same idempotency key or recordedAt). */
export async function findRetriedPoint(
  db: Db,
  scope: Scope,
  sessionId: string,
  input: LocationInput,
): Promise<PointRow | null> {
  return withTenant(db, scope.tenantId, async (tx) => {
    const rows = await tx.$queryRawUnsafe<PointRow[]>(
      `SELECT ${RETURNING} FROM location_points
       WHERE session_id = $1::uuid AND (recorded_at = $2::timestamptz OR recorded_at = (
         SELECT k.recorded_at FROM location_point_keys k
          WHERE k.tenant_id = app_current_tenant() AND k.session_id = $1::uuid AND k.idempotency_key = $3))
       ORDER BY (idempotency_key IS NOT DISTINCT FROM $3) DESC LIMIT 1`,
      sessionId,
      input.recordedAt.toISOString(),
      input.idempotencyKey ?? null,
    );
    return rows[0] ?? null;
  });
}

/**
 * Points of a session, newest first, keyset-paginated on (recordedAt, id): an index range scan.
 * The redundant `recordedAt <= after` bound is what makes it one: without it Postgres cannot turn
 * the OR into an index condition and walks the index from the newest point, filtering — a page 90 %
 * into a million-point session read ~900,000 rows (bench/location/million.bench.ts).
 */
export async function listPoints(
  db: Db,
  tenantId: string,
  sessionId: string,
  first: number,
  after: [string, string] | null,
): Promise<PointRow[]> {
  return withTenant(db, tenantId, (tx) =>
    tx.locationPoint.findMany({
      where: {
        sessionId,
        ...(after
          ? {
              recordedAt: { lte: new Date(after[0]) },
              OR: [
                { recordedAt: { lt: new Date(after[0]) } },
                { recordedAt: new Date(after[0]), id: { lt: after[1] } },
              ],
            }
          : {}),
      },
      orderBy: [{ recordedAt: 'desc' }, { id: 'desc' }],
      take: first + 1,
      select: pointSelect,
    }),
  );
}

/** Points by id (live re-reads; RLS limits them to the tenant); unknown or malformed ids are left out. */
export async function findPoints(tx: Tx, pointIds: string[]): Promise<(PointRow & { sessionId: string })[]> {
  const ids = pointIds.filter(isUuid);
  if (ids.length === 0) return [];
  return tx.$queryRawUnsafe<(PointRow & { sessionId: string })[]>(
    `SELECT ${RETURNING}, session_id AS "sessionId" FROM location_points WHERE id = ANY($1::uuid[])`,
    ids,
  );
}
