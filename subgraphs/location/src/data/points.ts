import { isUuid } from '@lt/context';
import { withTenant, type Db, type Tx } from '@lt/db';
import {
  LIVE_PAYLOAD_MAX_POINTS,
  POINT_FIELD_NAMES,
  POINT_FIELDS,
  locationUpdates,
  pointColumnsSql,
  pointSelect as pointFieldsSelect,
  type PointRecord,
} from '@lt/events';
import { conflict, notFound } from '@lt/errors';
import { checkNotBeforeStart, type LocationInput } from '../validation';
import type { FenceIndexCache } from '../geofence/fenceIndex';
import { evaluateFences, type FenceOutcome } from './geofences';
import { withTenantRaw, type RawTx, type Sql } from './raw';
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
    tx: Sql,
    scope: Scope,
    sessionId: string,
    inputs: LocationInput[],
  ): Promise<{ session: WriteRow | null; write: LocationInput[]; filtered: { index: number; reason: string }[] }>;
  after(
    tx: Sql,
    scope: Scope,
    sessionId: string,
    session: WriteRow,
    written: { inputs: LocationInput[]; inserted: { id: string; recordedAt: Date }[] },
  ): Promise<void>;
}

/** The write statement's session row: the locked session, and what the fence evaluation starts from. */
export interface WriteRow {
  s_user_id: string;
  s_status: 'ACTIVE' | 'ENDED';
  s_started_at: Date;
  s_device_id: string | null;
  s_point_count: number | bigint;
  /** The tenant's fence version (its row locked FOR SHARE), or null when it has no fences. */
  g_version?: string | null;
  /** The session's visits before this batch, as the statement's snapshot saw them. */
  g_visits?: { g: string; e: string; d: boolean }[] | null;
  /** recordedAt of the session's newest point before this batch (null: none, or not in the snapshot). */
  g_last?: Date | null;
  /** The locked session row is the one the snapshot saw (no batch committed in between). */
  g_fresh?: boolean | null;
  /** The session's newest point before this batch (from the locked row). */
  g_last_point_id?: string | null;
}

/** The write statement's rows: the session row (`s_user_id` set) and one row per written point (`id` set). */
type WriteResultRow = (WriteRow & { id: null }) | (PointRow & { s_user_id: null });

/** The point columns as the API reads them (`PointRow`), from the contract in @lt/events. */
const RETURNING = pointColumnsSql;
/** Each written point's `location.recorded.v1` payload, built from the `ins` row `i`. */
const RECORDED_PAYLOAD = locationUpdates.payloadSql('$2::text', 'ok.user_id::text', 'i');
/** The session row's point columns: NULLs typed like `RETURNING` (one per contract field, same order). */
const SQL_NULL = { id: 'uuid', number: 'float8', 'number?': 'float8', time: 'timestamptz' } as const;
const NULL_POINT = POINT_FIELD_NAMES.map((f) => `NULL::${SQL_NULL[POINT_FIELDS[f].kind]} AS "${f}"`).join(', ');

/**
 * Records points into a session, all or nothing, in one transaction and ONE statement: it locks
 * the session row (a concurrent stop or batch serialises with this one), writes only if the
 * session may take them (visible, the caller's own for MEMBERs, ACTIVE, not after any point),
 * inserts every point (skipping retries: `ON CONFLICT DO NOTHING` on (session, recordedAt), and a key already
 * claimed in location_point_keys), writes one `location.recorded.v1` outbox row per new point and bumps
 * the denormalised counters. The session comes back with the rows, so a refusal names its reason
 * (nothing was written). Three round trips for 1 or 1,000 points (BEGIN with the tenant, write,
 * COMMIT), and the session lock is held for one statement and the commit only. In a tenant with
 * geofences the same statement also returns what their evaluation starts from (fence version, the
 * session's visits and newest point before the batch); one more round trip writes the
 * transitions, only when there are any. Runs on node-postgres (`withTenantRaw`): row-level
 * security as with `withTenant`, without Prisma's per-value cost.
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
  return withTenantRaw(db, scope.tenantId, async (tx) => {
    const prepared = hooks ? await hooks.before(tx, scope, sessionId, inputs) : null;
    const write = prepared?.write ?? inputs;
    const written =
      write.length > 0 || !prepared
        ? await writePoints(tx, scope, sessionId, write)
        : { session: prepared.session, points: [] };
    const session = written.session;
    if (!session || (scope.ownOnly && session.s_user_id !== scope.userId))
      throw notFound('Location session', 'sessionId');
    if (session.s_status === 'ENDED') throw conflict('The session has ended', 'sessionId');
    // The statement wrote nothing if a point precedes the start: name the first such point.
    checkNotBeforeStart(inputs, session.s_started_at, fieldOf);
    const inserted = written.points;
    inserted.sort((a, b) => a.recordedAt.getTime() - b.recordedAt.getTime() || (a.id < b.id ? -1 : 1));
    const geofences =
      fences && session.g_version && inserted.length > 0
        ? await evaluateFences(tx, fences, {
            tenantId: scope.tenantId,
            sessionId,
            userId: session.s_user_id,
            points: evalPoints(write, inserted),
            version: BigInt(session.g_version),
            before: session.g_fresh
              ? { visits: session.g_visits ?? [], last: session.g_last ?? null }
              : { lastPointId: session.g_last_point_id ?? null },
          })
        : { events: [] };
    if (hooks && inserted.length > 0) await hooks.after(tx, scope, sessionId, session, { inputs: write, inserted });
    return {
      inserted,
      stored: inputs.length === 1 ? (inserted[0] ?? null) : null,
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
  });
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
 * data-modifying statement (`full`: the points come back with all their columns, else id and
 * recordedAt only). The outbox rows have exactly the shape `appendOutbox` (@lt/events) writes —
 * same topic, key, type and payload as `locationUpdates` builds (@lt/events) — but built in SQL
 * from the inserted rows. Idempotency keys are claimed in `location_point_keys` before a keyed
 * point is written (a key repeated in the batch writes one point; a retry writes none). The
 * session's columns come back once, on a row of their own (`s_…`, `g_…`), the points on one row
 * each; no row at all when the session is not visible (RLS, or no such id). Nothing here depends
 * on `id` being the points' only key (the table is partitioned by week of recorded_at).
 */
const writeStatement = (full: boolean): string =>
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
     ${full ? NULL_POINT : `NULL::uuid AS id, NULL::timestamptz AS "recordedAt"`}
   FROM s LEFT JOIN gs ON true
   UNION ALL
   SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
     ${full ? 'i.*' : 'i.id, i."recordedAt"'}
   FROM ins i`;

/** Both variants, built once (they run as named prepared statements). */
const WRITE_FULL = writeStatement(true);
const WRITE_IDS = writeStatement(false);

async function writePoints(
  tx: RawTx,
  scope: Scope,
  sessionId: string,
  inputs: LocationInput[],
): Promise<{ session: WriteRow | null; points: PointRow[] }> {
  const n = inputs.length;
  // Array parameters as literals built here: node-postgres would prepare and escape every element.
  // Numbers print as JS's shortest exact form (Postgres reads them back to the same float8; the
  // validation let only finite ones through), null as NULL; ISO timestamps need no quoting.
  const lat = new Array<number>(n);
  const lng = new Array<number>(n);
  const acc = new Array<number | string>(n);
  const alt = new Array<number | string>(n);
  const spd = new Array<number | string>(n);
  const hdg = new Array<number | string>(n);
  const rec = new Array<string>(n);
  const key = new Array<string | null>(n);
  let earliest = Infinity;
  for (let i = 0; i < n; i++) {
    const p = inputs[i]!;
    lat[i] = p.latitude;
    lng[i] = p.longitude;
    acc[i] = p.accuracy ?? 'NULL';
    alt[i] = p.altitude ?? 'NULL';
    spd[i] = p.speed ?? 'NULL';
    hdg[i] = p.heading ?? 'NULL';
    const t = p.recordedAt.getTime();
    rec[i] = p.recordedAt.toISOString();
    key[i] = p.idempotencyKey ?? null;
    if (t < earliest) earliest = t;
  }
  const literal = (xs: unknown[]): string => `{${xs.join(',')}}`;
  // A large batch answers with ids only: reading back 1,000 full rows would cost more than writing
  // them. Small ones (≤ LIVE_PAYLOAD_MAX_POINTS) return full rows for the live event's payload.
  const full = n <= LIVE_PAYLOAD_MAX_POINTS;
  const rows = await tx.prepared<WriteResultRow>(
    full ? 'lt_record_points_full' : 'lt_record_points',
    full ? WRITE_FULL : WRITE_IDS,
    [
      scope.tenantId,
      sessionId,
      literal(lat),
      literal(lng),
      literal(acc),
      literal(alt),
      literal(spd),
      literal(hdg),
      literal(rec),
      key,
      locationUpdates.name,
      locationUpdates.key(scope.tenantId, sessionId),
      'location.recorded.v1' satisfies locationUpdates.LocationUpdatesType,
      scope.ownOnly ? scope.userId : null,
      new Date(earliest).toISOString(),
    ],
  );
  let session: WriteRow | null = null;
  const points: PointRow[] = [];
  for (const r of rows) {
    if (r.s_user_id !== null) session = r;
    else if (full) points.push(r);
    else points.push({ id: r.id, recordedAt: r.recordedAt } as PointRow);
  }
  return { session, points };
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
