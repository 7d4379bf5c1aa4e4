import { isUuid } from '@lt/context';
import { randomUUID } from 'node:crypto';
import { withTenant, type Db, type Tx } from '@lt/db';
import { conflict } from '@lt/errors';
import { geofenceEvents } from '@lt/events';
import { compileFence, type FenceShape } from '../geofence/geometry';
import { evaluatePoints, type EvalPoint, type GeofenceEventType, type Visit } from '../geofence/evaluate';
import { FenceIndex, type FenceIndexCache } from '../geofence/fenceIndex';
import type { GeofenceChange } from '../geofence/validate';
import type { Sql } from './raw';
import { type Scope } from './scope';

export interface GeofenceRow {
  id: string;
  tenantId: string;
  name: string;
  shape: FenceShape;
  dwellSeconds: number | null;
  tags: string[];
  createdAt: Date;
  updatedAt: Date;
}

interface RawFence {
  id: string;
  tenant_id: string;
  name: string;
  shape_type: 'CIRCLE' | 'POLYGON';
  latitude: number | null;
  longitude: number | null;
  radius_meters: number | null;
  polygon: number[][] | null;
  dwell_seconds: number | null;
  tags: string[];
  created_at: Date;
  updated_at: Date;
}

const FENCE_COLUMNS = `id, tenant_id, name, shape_type, latitude, longitude, radius_meters, polygon, dwell_seconds,
  tags, created_at, updated_at`;

function shapeOf(r: Pick<RawFence, 'shape_type' | 'latitude' | 'longitude' | 'radius_meters' | 'polygon'>): FenceShape {
  return r.shape_type === 'CIRCLE'
    ? { type: 'CIRCLE', latitude: r.latitude!, longitude: r.longitude!, radiusMeters: r.radius_meters! }
    : { type: 'POLYGON', polygon: r.polygon! };
}

const toRow = (r: RawFence): GeofenceRow => ({
  id: r.id,
  tenantId: r.tenant_id,
  name: r.name,
  shape: shapeOf(r),
  dwellSeconds: r.dwell_seconds,
  tags: r.tags,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const shapeColumns = (s: FenceShape) =>
  s.type === 'CIRCLE'
    ? ['CIRCLE', s.latitude, s.longitude, s.radiusMeters, null]
    : ['POLYGON', null, null, null, JSON.stringify(s.polygon)];

/**
 * Bumps the tenant's fence version (and count by `delta`) before the fence itself changes. The row
 * lock it takes orders this change with every point transaction of the tenant that evaluates
 * fences (they read the row FOR SHARE): a point is evaluated either wholly before or wholly after.
 */
async function bumpVersion(tx: Tx, tenantId: string, delta: number): Promise<number> {
  const rows = await tx.$queryRawUnsafe<{ fence_count: number }[]>(
    `INSERT INTO geofence_tenant_state (tenant_id, version, fence_count) VALUES ($1::uuid, 1, greatest($2, 0))
     ON CONFLICT (tenant_id) DO UPDATE SET version = geofence_tenant_state.version + 1,
       fence_count = geofence_tenant_state.fence_count + $2, updated_at = now()
     RETURNING fence_count`,
    tenantId,
    delta,
  );
  return rows[0]!.fence_count;
}

export async function createGeofence(
  db: Db,
  tenantId: string,
  change: Required<Pick<GeofenceChange, 'name' | 'shape' | 'tags'>> & { dwellSeconds: number | null },
  maxPerTenant: number,
): Promise<GeofenceRow> {
  return withTenant(db, tenantId, async (tx) => {
    const count = await bumpVersion(tx, tenantId, 1);
    if (count > maxPerTenant)
      throw conflict(`A tenant holds at most ${maxPerTenant} geofences; delete some first`, 'input');
    const rows = await tx.$queryRawUnsafe<RawFence[]>(
      `INSERT INTO geofences (tenant_id, name, shape_type, latitude, longitude, radius_meters, polygon, dwell_seconds, tags)
       VALUES ($1::uuid, $2, $3, $4, $5, $6, $7::jsonb, $8, $9::text[]) RETURNING ${FENCE_COLUMNS}`,
      tenantId,
      change.name,
      ...shapeColumns(change.shape),
      change.dwellSeconds,
      change.tags,
    );
    return toRow(rows[0]!);
  });
}

export async function updateGeofence(
  db: Db,
  tenantId: string,
  id: string,
  change: GeofenceChange,
): Promise<GeofenceRow | null> {
  if (!isUuid(id)) return null;
  return withTenant(db, tenantId, async (tx) => {
    const existing = await tx.$queryRawUnsafe<RawFence[]>(
      `SELECT ${FENCE_COLUMNS} FROM geofences WHERE id = $1::uuid AND deleted_at IS NULL`,
      id,
    );
    if (existing.length === 0) return null;
    await bumpVersion(tx, tenantId, 0);
    const shape = change.shape ? shapeColumns(change.shape) : null;
    const rows = await tx.$queryRawUnsafe<RawFence[]>(
      `UPDATE geofences SET
         name = coalesce($2, name),
         shape_type = CASE WHEN $3::boolean THEN $4 ELSE shape_type END,
         latitude = CASE WHEN $3::boolean THEN $5::float8 ELSE latitude END,
         longitude = CASE WHEN $3::boolean THEN $6::float8 ELSE longitude END,
         radius_meters = CASE WHEN $3::boolean THEN $7::float8 ELSE radius_meters END,
         polygon = CASE WHEN $3::boolean THEN $8::jsonb ELSE polygon END,
         dwell_seconds = CASE WHEN $9::boolean THEN $10::int ELSE dwell_seconds END,
         tags = coalesce($11::text[], tags),
         updated_at = now()
       WHERE id = $1::uuid AND deleted_at IS NULL RETURNING ${FENCE_COLUMNS}`,
      id,
      change.name ?? null,
      shape !== null,
      ...(shape ?? [null, null, null, null, null]),
      change.dwellSeconds !== undefined,
      change.dwellSeconds ?? null,
      change.tags ?? null,
    );
    return rows[0] ? toRow(rows[0]) : null;
  });
}

/**
 * Deletes a fence: its visits end silently (no EXIT), and its row stays as a tombstone
 * (`deleted_at`) so its event history — an audit record — survives and still names it. A deleted
 * fence is not evaluated, listed, counted against the cap, or found by id.
 */
export async function deleteGeofence(db: Db, tenantId: string, id: string): Promise<boolean> {
  if (!isUuid(id)) return false;
  return withTenant(db, tenantId, async (tx) => {
    const found = await tx.$queryRawUnsafe<unknown[]>(
      `SELECT 1 FROM geofences WHERE id = $1::uuid AND deleted_at IS NULL`,
      id,
    );
    if (found.length === 0) return false;
    await bumpVersion(tx, tenantId, -1);
    const n = await tx.$executeRawUnsafe(
      `WITH ended AS (DELETE FROM geofence_visits WHERE tenant_id = $2::uuid AND geofence_id = $1::uuid)
       UPDATE geofences SET deleted_at = now(), updated_at = now() WHERE id = $1::uuid AND deleted_at IS NULL`,
      id,
      tenantId,
    );
    return n > 0;
  });
}

export async function getGeofence(db: Db, tenantId: string, id: string): Promise<GeofenceRow | null> {
  if (!isUuid(id)) return null;
  return withTenant(db, tenantId, (tx) => findGeofences(tx, [id])).then((r) => r[0] ?? null);
}

/** Fences by id; deleted ones only with `withDeleted` (the fences named by event history). */
export async function findGeofences(tx: Tx, ids: string[], withDeleted = false): Promise<GeofenceRow[]> {
  const valid = ids.filter(isUuid);
  if (valid.length === 0) return [];
  const rows = await tx.$queryRawUnsafe<RawFence[]>(
    `SELECT ${FENCE_COLUMNS} FROM geofences WHERE id = ANY($1::uuid[]) AND ($2::boolean OR deleted_at IS NULL)`,
    valid,
    withDeleted,
  );
  return rows.map(toRow);
}

/** Newest first, keyset on (createdAt, id); `first + 1` rows. */
export async function listGeofences(
  db: Db,
  tenantId: string,
  args: { tag: string | null; first: number; after: [string, string] | null },
): Promise<GeofenceRow[]> {
  return withTenant(db, tenantId, async (tx) => {
    const rows = await tx.$queryRawUnsafe<RawFence[]>(
      `SELECT ${FENCE_COLUMNS} FROM geofences
       WHERE tenant_id = $1::uuid AND deleted_at IS NULL AND ($2::text IS NULL OR $2 = ANY(tags))
         AND ($3::timestamptz IS NULL OR (created_at, id) < ($3::timestamptz, $4::uuid))
       ORDER BY created_at DESC, id DESC LIMIT $5`,
      tenantId,
      args.tag,
      args.after?.[0] ?? null,
      args.after?.[1] ?? null,
      args.first + 1,
    );
    return rows.map(toRow);
  });
}

/** Fences a session is inside now (oldest visit first). */
export async function fencesInside(db: Db, tenantId: string, sessionId: string): Promise<GeofenceRow[]> {
  return withTenant(db, tenantId, async (tx) => {
    const rows = await tx.$queryRawUnsafe<RawFence[]>(
      `SELECT ${FENCE_COLUMNS.split(',')
        .map((c) => `g.${c.trim()}`)
        .join(', ')}
       FROM geofence_visits v JOIN geofences g ON g.id = v.geofence_id
       WHERE v.tenant_id = $1::uuid AND v.session_id = $2::uuid ORDER BY v.entered_at, g.id`,
      tenantId,
      sessionId,
    );
    return rows.map(toRow);
  });
}

// ───────────── Evaluation in the point's transaction ─────────────

export interface GeofenceEventRow {
  id: string;
  type: GeofenceEventType;
  geofenceId: string;
  sessionId: string;
  userId: string;
  pointId: string;
  at: Date;
  seq: bigint;
}

/** What one point transaction produced: the events (also in the outbox), oldest first. */
export interface FenceOutcome {
  events: { id: string; type: GeofenceEventType; geofenceId: string; pointId: string }[];
}

/** The tenant's index at the version this transaction holds (loaded in it when the cache is stale). */
async function indexFor(tx: Sql, cache: FenceIndexCache, tenantId: string, version: bigint): Promise<FenceIndex> {
  const cached = cache.get(tenantId, version);
  if (cached) return cached;
  const rows = await tx.$queryRawUnsafe<
    Pick<RawFence, 'id' | 'shape_type' | 'latitude' | 'longitude' | 'radius_meters' | 'polygon' | 'dwell_seconds'>[]
  >(
    `SELECT id, shape_type, latitude, longitude, radius_meters, polygon, dwell_seconds FROM geofences
     WHERE tenant_id = $1::uuid AND deleted_at IS NULL`,
    tenantId,
  );
  const index = new FenceIndex(
    version,
    rows.map((r) => compileFence(r.id, shapeOf(r), r.dwell_seconds)),
  );
  cache.set(tenantId, index);
  return index;
}

/** What one batch's evaluation needs besides the fences: the session before the batch. */
export interface EvaluationInput {
  tenantId: string;
  sessionId: string;
  userId: string;
  /** The batch's written points, oldest first. */
  points: EvalPoint[];
  /** The tenant's fence version, read with its row locked FOR SHARE in this transaction. */
  version: bigint;
  /**
   * The session's visits and newest point's recordedAt before the batch, when the write statement
   * could read them (its snapshot was current); else the newest point's id, to read them afresh.
   */
  before: { visits: { g: string; e: string; d: boolean }[]; last: Date | null } | { lastPointId: string | null };
}

/**
 * Evaluates a session's newly stored points (oldest first) against the tenant's fences and writes
 * the outcome — visits, history rows and outbox events (`geofence.entered|exited|dwelled.v1` on
 * `geofence-events`, key `tenantId:sessionId`) — in the caller's transaction, so events exist
 * exactly when their points do. The caller's write statement locked the session row and the
 * tenant's fence version row (FOR SHARE: fence changes wait, and it waited for one in progress) and
 * read the session's state. A point not newer than the session's newest point before the batch is
 * out of order and changes nothing. One round trip (the write), only when there are transitions;
 * plus a fence load when the version changed, and a state read in the rare case the write
 * statement's snapshot was older than its session lock.
 */
export async function evaluateFences(tx: Sql, cache: FenceIndexCache, input: EvaluationInput): Promise<FenceOutcome> {
  const { tenantId, sessionId, userId, points } = input;
  const empty: FenceOutcome = { events: [] };
  if (points.length === 0) return empty;
  let before = input.before;
  if ('lastPointId' in before) {
    const [fresh] = await tx.$queryRawUnsafe<
      { last: Date | null; visits: { g: string; e: string; d: boolean }[] | null }[]
    >(
      `SELECT (SELECT recorded_at FROM location_points WHERE id = $3::uuid) AS last,
         (SELECT json_agg(json_build_object('g', geofence_id, 'e', entered_at, 'd', dwelled)) FROM geofence_visits
           WHERE tenant_id = $1::uuid AND session_id = $2::uuid) AS visits`,
      tenantId,
      sessionId,
      before.lastPointId,
    );
    before = { visits: fresh?.visits ?? [], last: fresh?.last ?? null };
  }
  const index = await indexFor(tx, cache, tenantId, input.version);
  if (index.size === 0 && before.visits.length === 0) return empty;
  const stored = new Map<string, Visit>(before.visits.map((v) => [v.g, { enteredAt: Date.parse(v.e), dwelled: v.d }]));
  const r = evaluatePoints(index, stored, points, before.last ? before.last.getTime() : null);
  // Visits change only with a transition: nothing to write.
  if (r.transitions.length === 0) return empty;

  const removed = [...stored.keys()].filter((id) => !r.visits.has(id));
  const upserts = [...r.visits].filter(([id, v]) => {
    const s = stored.get(id);
    return !s || s.enteredAt !== v.enteredAt || s.dwelled !== v.dwelled;
  });
  const events = r.transitions.map((t) => ({ id: randomUUID(), ...t }));
  const iso = (ms: number) => new Date(ms).toISOString();
  await tx.$executeRawUnsafe(
    `WITH del AS (
       DELETE FROM geofence_visits WHERE tenant_id = $1::uuid AND session_id = $2::uuid AND geofence_id = ANY($3::uuid[])
     ),
     up AS (
       INSERT INTO geofence_visits (tenant_id, session_id, geofence_id, entered_at, dwelled)
       SELECT $1::uuid, $2::uuid, u.g, u.e, u.d FROM unnest($4::uuid[], $5::timestamptz[], $6::boolean[]) AS u(g, e, d)
       ON CONFLICT (tenant_id, session_id, geofence_id) DO UPDATE
         SET entered_at = EXCLUDED.entered_at, dwelled = EXCLUDED.dwelled, updated_at = now()
     ),
     ev AS (
       INSERT INTO geofence_events (id, tenant_id, geofence_id, session_id, user_id, point_id, type, at)
       SELECT u.id, $1::uuid, u.g, $2::uuid, $7::uuid, u.p, u.t, u.at
       FROM unnest($8::uuid[], $9::uuid[], $10::uuid[], $11::text[], $12::timestamptz[]) WITH ORDINALITY
         AS u(id, g, p, t, at, o)
       ORDER BY u.o
     )
     INSERT INTO outbox (id, tenant_id, topic, key, type, payload, occurred_at, created_at, updated_at)
     SELECT u.id, $1::uuid, $13, $14, u.t, u.p::jsonb, now(), now(), now()
     FROM unnest($8::uuid[], $15::text[], $16::text[]) WITH ORDINALITY AS u(id, t, p, o)
     ORDER BY u.o`,
    tenantId,
    sessionId,
    removed,
    upserts.map(([id]) => id),
    upserts.map(([, v]) => iso(v.enteredAt)),
    upserts.map(([, v]) => v.dwelled),
    userId,
    events.map((e) => e.id),
    events.map((e) => e.geofenceId),
    events.map((e) => e.point.id),
    events.map((e) => e.type),
    events.map((e) => iso(e.point.recordedAt)),
    geofenceEvents.name,
    geofenceEvents.key(tenantId, sessionId),
    events.map((e) => geofenceEvents.typeOf[e.type]),
    events.map((e) => JSON.stringify(geofenceEvents.payload(sessionId, userId, e))),
  );
  return { events: events.map((e) => ({ id: e.id, type: e.type, geofenceId: e.geofenceId, pointId: e.point.id })) };
}

// ───────────── History ─────────────

interface RawEvent {
  id: string;
  type: GeofenceEventType;
  geofence_id: string;
  session_id: string;
  user_id: string;
  point_id: string;
  at: Date;
  seq: bigint;
}
const toEvent = (r: RawEvent): GeofenceEventRow => ({
  id: r.id,
  type: r.type,
  geofenceId: r.geofence_id,
  sessionId: r.session_id,
  userId: r.user_id,
  pointId: r.point_id,
  at: r.at,
  seq: BigInt(r.seq),
});

/** Events in the caller's scope (MEMBERs: own sessions), newest first, keyset on seq; `first + 1` rows. */
export async function listGeofenceEvents(
  db: Db,
  scope: Scope,
  args: { geofenceId: string | null; sessionId: string | null; first: number; after: bigint | null },
): Promise<GeofenceEventRow[]> {
  if ((args.geofenceId && !isUuid(args.geofenceId)) || (args.sessionId && !isUuid(args.sessionId))) return [];
  return withTenant(db, scope.tenantId, async (tx) => {
    const rows = await tx.$queryRawUnsafe<RawEvent[]>(
      `SELECT id, type, geofence_id, session_id, user_id, point_id, at, seq FROM geofence_events
       WHERE tenant_id = $1::uuid AND ($2::uuid IS NULL OR geofence_id = $2::uuid)
         AND ($3::uuid IS NULL OR session_id = $3::uuid) AND ($4::uuid IS NULL OR user_id = $4::uuid)
         AND ($5::bigint IS NULL OR seq < $5::bigint)
       ORDER BY seq DESC LIMIT $6`,
      scope.tenantId,
      args.geofenceId,
      args.sessionId,
      scope.ownOnly ? scope.userId : null,
      args.after,
      args.first + 1,
    );
    return rows.map(toEvent);
  });
}

/** Events by id in the caller's scope, in the order asked (live re-reads); others are left out. */
export async function findGeofenceEvents(db: Db, scope: Scope, ids: string[]): Promise<GeofenceEventRow[]> {
  const valid = ids.filter(isUuid);
  if (valid.length === 0) return [];
  const rows = await withTenant(db, scope.tenantId, (tx) =>
    tx.$queryRawUnsafe<RawEvent[]>(
      `SELECT id, type, geofence_id, session_id, user_id, point_id, at, seq FROM geofence_events
       WHERE id = ANY($1::uuid[]) AND ($2::uuid IS NULL OR user_id = $2::uuid)`,
      valid,
      scope.ownOnly ? scope.userId : null,
    ),
  );
  const byId = new Map(rows.map((r) => [r.id, toEvent(r)]));
  return ids.flatMap((id) => byId.get(id) ?? []);
}
