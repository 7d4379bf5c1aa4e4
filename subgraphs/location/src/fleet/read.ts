import { isUuid } from '@lt/context';
/** Reads of the maintained fleet state: session summaries, devices, the snapshot's latest points. */
import { withTenant, type Db } from '@lt/db';
import type { PointRow } from '../data/points';
import { type Scope } from '../data/scope';
import { findSessions, type SessionRow } from '../data/sessions';
import { emptyState, emptyTotals, present, type FoldState, type SessionSummary, type StopRules } from './summary';
import { refold, saveSummary } from './state';

/** The session's summary from its stored fold (a legacy session's fold is rebuilt once, under its lock). */
export async function sessionSummary(db: Db, s: SessionRow, rules: StopRules): Promise<SessionSummary> {
  return withTenant(
    db,
    s.tenantId,
    async (tx) => {
      const rows = await tx.$queryRawUnsafe<
        {
          point_count: number;
          first_at: Date | null;
          last_at: Date | null;
          distance_m: number;
          max_speed: number | null;
          state: FoldState;
        }[]
      >(
        `SELECT point_count, first_at, last_at, distance_m, max_speed, state FROM session_summaries WHERE session_id = $1::uuid`,
        s.id,
      );
      const r = rows[0];
      if (!r) return present(emptyState(), emptyTotals(), rules, s.status === 'ACTIVE');
      let state: FoldState = { ...r.state, stops: r.state.stops ?? [] };
      let totals = {
        pointCount: Number(r.point_count),
        firstAt: r.first_at?.getTime() ?? null,
        lastAt: r.last_at?.getTime() ?? null,
        distance: Number(r.distance_m),
        maxSpeed: r.max_speed === null ? null : Number(r.max_speed),
      };
      if (state.rebuild) {
        await tx.$queryRawUnsafe(`SELECT 1 FROM location_sessions WHERE id = $1::uuid FOR UPDATE`, s.id);
        ({ state, totals } = (await refold(tx, s.id, state, totals, null, rules))!);
        await saveSummary(tx, s.tenantId, s.id, state, totals);
      }
      return present(state, totals, rules, s.status === 'ACTIVE');
    },
    { timeoutMs: 30_000 },
  );
}

export interface DeviceRow {
  id: string;
  tenantId: string;
  userId: string;
  deviceId: string;
  lastPoint: PointRow | null;
  lastSeenAt: Date;
  /** The device's last session, with its status: `activeSession` when ACTIVE. */
  activeSession: SessionRow | null;
}

/**
 * A page of the caller's devices, most recently seen first (keyset on lastSeenAt, id; fetches
 * first + 1). TENANT_ADMIN: the tenant's; MEMBER: their own. `online`: seen at or after `onlineSince`.
 */
export async function listDevices(
  db: Db,
  scope: Scope,
  args: { online: boolean | null; onlineSince: Date; first: number; after: { at: Date; id: string } | null },
): Promise<DeviceRow[]> {
  return withTenant(db, scope.tenantId, async (tx) => {
    const rows = await tx.$queryRawUnsafe<
      {
        id: string;
        user_id: string;
        device_id: string;
        last_point: Record<string, unknown> | null;
        last_seen_at: Date;
        last_session_id: string | null;
      }[]
    >(
      `SELECT id, user_id, device_id, last_point, last_seen_at, last_session_id FROM devices
        WHERE tenant_id = app_current_tenant()
          AND ($1::uuid IS NULL OR user_id = $1::uuid)
          AND ($2::boolean IS NULL OR (last_seen_at >= $3::timestamptz) = $2::boolean)
          AND ($4::timestamptz IS NULL OR (last_seen_at, id) < ($4::timestamptz, $5::uuid))
        ORDER BY last_seen_at DESC, id DESC LIMIT $6`,
      scope.ownOnly ? scope.userId : null,
      args.online,
      args.onlineSince,
      args.after?.at ?? null,
      args.after?.id ?? null,
      args.first + 1,
    );
    const sessionIds = rows.map((r) => r.last_session_id).filter((id): id is string => id !== null);
    const sessions = new Map((await findSessions(tx, scope, sessionIds)).map((s) => [s.id, s]));
    return rows.map((r) => {
      const session = r.last_session_id ? (sessions.get(r.last_session_id) ?? null) : null;
      return {
        id: r.id,
        tenantId: scope.tenantId,
        userId: r.user_id,
        deviceId: r.device_id,
        lastPoint: r.last_point ? toPoint(r.last_point) : null,
        lastSeenAt: r.last_seen_at,
        activeSession: session?.status === 'ACTIVE' ? session : null,
      };
    });
  });
}

function toPoint(j: Record<string, unknown>): PointRow {
  return {
    id: String(j['id']),
    latitude: Number(j['latitude']),
    longitude: Number(j['longitude']),
    accuracy: (j['accuracy'] as number | null) ?? null,
    altitude: (j['altitude'] as number | null) ?? null,
    speed: (j['speed'] as number | null) ?? null,
    heading: (j['heading'] as number | null) ?? null,
    recordedAt: new Date(String(j['recordedAt'])),
    receivedAt: new Date(String(j['receivedAt'])),
  };
}

/**
 * The latest point id of each ACTIVE session in the caller's scope (one session when `sessionId`
 * is given), oldest session first: the snapshot a `locationUpdated(includeLatest: true)`
 * subscription starts with. At most `limit` ids.
 */
export async function latestPointIds(db: Db, scope: Scope, sessionId: string | null, limit: number): Promise<string[]> {
  if (sessionId !== null && !isUuid(sessionId)) return [];
  return withTenant(db, scope.tenantId, async (tx) => {
    const rows = await tx.$queryRawUnsafe<{ id: string }[]>(
      `SELECT p.id::text AS id FROM location_sessions s JOIN location_points p ON p.id = s.last_point_id
        WHERE s.tenant_id = app_current_tenant() AND s.status = 'ACTIVE'
          AND ($1::uuid IS NULL OR s.id = $1::uuid) AND ($2::uuid IS NULL OR s.user_id = $2::uuid)
        ORDER BY s.started_at, s.id LIMIT $3`,
      sessionId,
      scope.ownOnly ? scope.userId : null,
      limit,
    );
    return rows.map((r) => r.id);
  });
}
